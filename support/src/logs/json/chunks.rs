//! [`convert`]: whole lines are read in chunks, the chunks converted on worker threads, and the
//! results written in input order. At most a fixed number of chunks is in flight, so memory
//! does not grow with the input; a line longer than a chunk makes its chunk as long as the line.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};

/// Reads lines from `input` (invalid UTF-8 is replaced, never fatal) and writes JSON lines.
pub fn convert(input: impl BufRead, output: impl Write) -> io::Result<()> {
    run(input, output, Limits::for_this_machine())
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Bytes read at a time (rounded to whole lines).
    pub chunk: usize,
    pub workers: usize,
    /// Chunks read but not yet written.
    pub in_flight: usize,
}

impl Limits {
    fn for_this_machine() -> Self {
        // More threads than cores only contend; past a few, the reading and writing thread is the
        // bottleneck anyway.
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        Limits {
            // A chunk and its output stay within a core's L2 cache; larger chunks measured
            // no faster.
            chunk: 1 << 18,
            workers,
            in_flight: 2 * workers,
        }
    }
}

pub(crate) fn run(input: impl Read, mut output: impl Write, limits: Limits) -> io::Result<()> {
    let mut chunks = Chunks {
        input,
        carry: Vec::new(),
        at_end: false,
        size: limits.chunk.max(1),
    };
    let mut first = Buffers::default();
    let Some(lines) = chunks.next(&mut first.input)? else {
        return output.flush();
    };
    if chunks.at_end {
        // All of it in one chunk: threads would only add their start-up.
        convert_chunk(&first.input, 1, &mut first.output);
        output.write_all(&first.output)?;
        return output.flush();
    }
    let (jobs, queue) = mpsc::sync_channel::<Job>(limits.workers);
    let queue = Mutex::new(queue);
    std::thread::scope(|scope| {
        for _ in 0..limits.workers.max(1) {
            scope.spawn(|| work(&queue));
        }
        // `jobs` is moved in: when `feed` returns, the workers run out of jobs and stop.
        feed(&mut chunks, (first, lines), &mut output, jobs, limits)
    })
}

/// Converts whole lines; line numbers start at `first_line`. A line that is not UTF-8 is read
/// with its invalid bytes replaced.
fn convert_chunk(chunk: &[u8], first_line: usize, out: &mut Vec<u8>) {
    let mut rest = chunk;
    let mut number = first_line;
    // Valid runs of lines are checked and split as text at once; only a bad line goes through
    // `from_utf8_lossy`.
    while !rest.is_empty() {
        let (text, bad) = match std::str::from_utf8(rest) {
            Ok(text) => (text, &[][..]),
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                let start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                let end = after
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(after.len(), |p| p + 1);
                // These lines end before the first invalid byte: they are UTF-8.
                let text = std::str::from_utf8(&valid[..start]).unwrap_or_default();
                (text, &rest[start..valid.len() + end])
            }
        };
        for line in text.split_inclusive('\n') {
            super::write_line(number, line, out);
            number += 1;
        }
        if !bad.is_empty() {
            super::write_line(number, &String::from_utf8_lossy(bad), out);
            number += 1;
        }
        rest = &rest[text.len() + bad.len()..];
    }
}

#[derive(Default)]
struct Buffers {
    input: Vec<u8>,
    output: Vec<u8>,
}

struct Job {
    buffers: Buffers,
    first_line: usize,
    done: SyncSender<Buffers>,
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        // A poisoned lock means another worker panicked: the scope reports it.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(Job {
            mut buffers,
            first_line,
            done,
        }) = job
        else {
            return; // no more input
        };
        buffers.output.clear();
        convert_chunk(&buffers.input, first_line, &mut buffers.output);
        // The reader has stopped waiting only if writing failed; nothing to do then.
        let _ = done.send(buffers);
    }
}

/// Hands chunks to the workers and writes their results in order.
fn feed(
    chunks: &mut Chunks<impl Read>,
    first: (Buffers, usize),
    output: &mut impl Write,
    jobs: SyncSender<Job>,
    limits: Limits,
) -> io::Result<()> {
    let gone = || io::Error::other("a log conversion thread stopped");
    let mut pending: VecDeque<Receiver<Buffers>> = VecDeque::new();
    let mut spare: Vec<Buffers> = Vec::new();
    let mut write = |finished: Buffers, spare: &mut Vec<Buffers>| -> io::Result<()> {
        output.write_all(&finished.output)?;
        // A chunk that held a very long line is let go: memory returns to its usual size.
        if finished.input.capacity() <= 4 * limits.chunk
            && finished.output.capacity() <= 8 * limits.chunk
        {
            spare.push(finished);
        }
        Ok(())
    };
    let (mut buffers, mut lines) = first;
    let mut next_line = 1;
    loop {
        let (done, result) = mpsc::sync_channel(1);
        jobs.send(Job {
            buffers,
            first_line: next_line,
            done,
        })
        .map_err(|_| gone())?;
        pending.push_back(result);
        next_line += lines;
        // Write what is finished, oldest first; wait for the oldest when enough are in flight.
        while let Some(oldest) = pending.front() {
            let finished = if pending.len() >= limits.in_flight.max(1) {
                oldest.recv().map_err(|_| gone())?
            } else {
                match oldest.try_recv() {
                    Ok(finished) => finished,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Err(gone()),
                }
            };
            pending.pop_front();
            write(finished, &mut spare)?;
        }
        buffers = spare.pop().unwrap_or_default();
        match chunks.next(&mut buffers.input)? {
            Some(n) => lines = n,
            None => break,
        }
    }
    for oldest in pending {
        write(oldest.recv().map_err(|_| gone())?, &mut spare)?;
    }
    output.flush()
}

/// The input as runs of whole lines.
struct Chunks<R> {
    input: R,
    /// The start of a line read with the previous chunk.
    carry: Vec<u8>,
    at_end: bool,
    size: usize,
}

impl<R: Read> Chunks<R> {
    /// Fills `buf` with the next lines (the last one may lack its newline at the end of the
    /// input) and returns how many; `None` when the input is exhausted.
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
        buf.clear();
        buf.append(&mut self.carry);
        while !self.at_end {
            // At least a chunk, and as much again as held when one line is longer than that.
            let want = self.size.max(buf.len());
            buf.reserve(want);
            let searched = buf.len();
            let got = (&mut self.input).take(want as u64).read_to_end(buf)?;
            if got < want {
                self.at_end = true;
            } else if let Some(last) = buf[searched..].iter().rposition(|&b| b == b'\n') {
                let end = searched + last + 1;
                self.carry.extend_from_slice(&buf[end..]);
                buf.truncate(end);
                break;
            }
        }
        if buf.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            count_newlines(buf) + usize::from(!buf.ends_with(b"\n")),
        ))
    }
}

/// Counts in runs short enough for a byte-sized count, which the compiler vectorizes well.
fn count_newlines(buf: &[u8]) -> usize {
    buf.chunks(255)
        .map(|run| {
            let n = run.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n'));
            usize::from(n)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequential(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        convert_chunk(input, 1, &mut out);
        out
    }

    fn chunked(input: &[u8], chunk: usize, workers: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let limits = Limits {
            chunk,
            workers,
            in_flight: 2 * workers,
        };
        run(input, &mut out, limits).unwrap();
        out
    }

    fn sample() -> Vec<u8> {
        let mut input = Vec::new();
        for name in [
            "ztunnel-envoy-2022.log",
            "ztunnel-tracing-1.18.log",
            "ztunnel-access-1.22.log",
            "istio-cni.log",
        ] {
            input.extend(
                crate::fixtures::read(&format!("recorded/{name}"))
                    .unwrap()
                    .bytes(),
            );
        }
        // Damage at the seams: CRLF, a lone CR, blank lines, bytes that are not UTF-8.
        input.extend_from_slice(b"\r\n\n\xff\xfe garbage\r\n \n2024-01-01T00:00:00Z info x \xc3");
        input
    }

    #[test]
    fn chunks_and_threads_change_nothing() {
        let input = sample();
        let expected = sequential(&input);
        assert!(expected.len() > input.len() / 2);
        for chunk in [1, 7, 100, 4096, 1 << 20] {
            for workers in [1, 2, 3] {
                assert_eq!(
                    chunked(&input, chunk, workers),
                    expected,
                    "chunk {chunk}, {workers} workers"
                );
            }
        }
    }

    #[test]
    fn line_numbers_count_every_line() {
        let out = chunked(b"\n\nhello\n\n\nworld", 3, 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"error\":\"not in any ztunnel log format\",\"line\":3}\n\
             {\"error\":\"not in any ztunnel log format\",\"line\":6}\n"
        );
    }

    #[test]
    fn a_line_longer_than_a_chunk_stays_whole() {
        let long = format!(
            "2024-01-01T00:00:00Z info dns {}\nnext\n",
            "word ".repeat(5000)
        );
        let out = String::from_utf8(chunked(long.as_bytes(), 64, 2)).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].len() > 25_000 && lines[0].ends_with("word\",\"line\":1}"));
        assert!(lines[1].ends_with("\"line\":2}"));
    }

    #[test]
    fn empty_input_writes_nothing() {
        assert!(chunked(b"", 8, 2).is_empty());
        assert!(sequential(b"").is_empty());
    }

    /// A writer that fails: the error comes back, the threads stop.
    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_is_returned() {
        let input = sample();
        let limits = Limits {
            chunk: 64,
            workers: 2,
            in_flight: 4,
        };
        let err = run(&input[..], Broken, limits).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
