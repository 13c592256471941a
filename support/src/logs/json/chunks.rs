//! [`convert`]: whole lines are read in chunks, the chunks converted on worker threads, and the
//! results written in input order. At most a fixed number of chunks is in flight, so memory
//! does not grow with the input; a line longer than a chunk makes its chunk as long as the line.
//!
//! Input that arrives slowly (`kubectl logs -f`) is not held back: when a read finds the writer
//! of a pipe caught up, what was read is converted and written before the next read waits.

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

/// A read shorter than this (and than asked for) found the input's writer caught up: a pipe
/// whose writer is ahead holds 64 KiB (Linux's default), a file gives all that is asked.
const CAUGHT_UP: usize = 64 << 10;

pub(crate) fn run(input: impl Read, mut output: impl Write, limits: Limits) -> io::Result<()> {
    let mut chunks = Chunks {
        input,
        carry: Vec::new(),
        at_end: false,
        size: limits.chunk.max(1),
    };
    let (jobs, queue) = mpsc::sync_channel::<Job>(limits.workers);
    let queue = Mutex::new(queue);
    std::thread::scope(|scope| {
        for _ in 0..limits.workers.max(1) {
            scope.spawn(|| work(&queue));
        }
        // `jobs` is moved in: when `feed` returns, the workers run out of jobs and stop.
        feed(&mut chunks, &mut output, jobs, limits)
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
    /// `input[..len]` is the chunk; the bytes after it are kept so as not to clear them again.
    input: Vec<u8>,
    len: usize,
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
        let chunk = buffers.input.get(..buffers.len).unwrap_or_default();
        convert_chunk(chunk, first_line, &mut buffers.output);
        // The reader has stopped waiting only if writing failed; nothing to do then.
        let _ = done.send(buffers);
    }
}

/// Hands chunks to the workers and writes their results in order.
fn feed(
    chunks: &mut Chunks<impl Read>,
    output: &mut impl Write,
    jobs: SyncSender<Job>,
    limits: Limits,
) -> io::Result<()> {
    let gone = || io::Error::other("a log conversion thread stopped");
    let mut pending: VecDeque<Receiver<Buffers>> = VecDeque::new();
    let mut spare: Vec<Buffers> = Vec::new();
    let mut next_line = 1;
    loop {
        let mut buffers = spare.pop().unwrap_or_default();
        let Some(read) = chunks.next(&mut buffers.input)? else {
            break;
        };
        buffers.len = read.len;
        let (done, result) = mpsc::sync_channel(1);
        jobs.send(Job {
            buffers,
            first_line: next_line,
            done,
        })
        .map_err(|_| gone())?;
        pending.push_back(result);
        next_line += read.lines;
        // Write what is finished, oldest first. Wait for the oldest when enough are in flight,
        // and for all when the next read may wait for input: what came in goes out first.
        while let Some(oldest) = pending.front() {
            let finished = if read.caught_up || pending.len() >= limits.in_flight.max(1) {
                oldest.recv().map_err(|_| gone())?
            } else {
                match oldest.try_recv() {
                    Ok(finished) => finished,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return Err(gone()),
                }
            };
            pending.pop_front();
            write(finished, output, &mut spare, limits)?;
        }
        if read.caught_up {
            output.flush()?;
        }
    }
    for oldest in pending {
        write(
            oldest.recv().map_err(|_| gone())?,
            output,
            &mut spare,
            limits,
        )?;
    }
    output.flush()
}

/// Writes a chunk's output and keeps its buffers for another chunk.
fn write(
    finished: Buffers,
    output: &mut impl Write,
    spare: &mut Vec<Buffers>,
    limits: Limits,
) -> io::Result<()> {
    output.write_all(&finished.output)?;
    // A chunk that held a very long line is let go: memory returns to its usual size.
    if finished.input.capacity() <= 4 * limits.chunk
        && finished.output.capacity() <= 8 * limits.chunk
    {
        spare.push(finished);
    }
    Ok(())
}

/// The input as runs of whole lines.
struct Chunks<R> {
    input: R,
    /// The start of a line read with the previous chunk.
    carry: Vec<u8>,
    at_end: bool,
    size: usize,
}

/// What [`Chunks::next`] put in the buffer.
struct Filled {
    len: usize,
    lines: usize,
    /// The last read found no more input waiting (or the end of it).
    caught_up: bool,
}

impl<R: Read> Chunks<R> {
    /// Fills `buf` with the next lines (the last one may lack its newline at the end of the
    /// input); `None` when the input is exhausted. Reads until a chunk is full, or until a read
    /// finds the input's writer caught up, and then up to the last whole line.
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Filled>> {
        let mut len = self.carry.len();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf[..len].copy_from_slice(&self.carry);
        self.carry.clear();
        // The carry is the start of a line: no newline in it.
        let mut searched = len;
        let mut caught_up = false;
        while !self.at_end {
            // A chunk, or half as much again as held when one line is longer than that.
            let want = self.size.max(len / 2);
            if buf.len() < len + want {
                buf.resize(len + want, 0);
            }
            let n = match self.input.read(&mut buf[len..len + want]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.at_end = true;
                break;
            }
            len += n;
            caught_up = n < want && n < CAUGHT_UP;
            if len >= self.size || caught_up {
                if let Some(last) = buf[searched..len].iter().rposition(|&b| b == b'\n') {
                    let end = searched + last + 1;
                    self.carry.extend_from_slice(&buf[end..len]);
                    len = end;
                    break;
                }
                searched = len;
            }
        }
        if len == 0 {
            return Ok(None);
        }
        let chunk = &buf[..len];
        Ok(Some(Filled {
            len,
            lines: count_newlines(chunk) + usize::from(!chunk.ends_with(b"\n")),
            caught_up: caught_up || self.at_end,
        }))
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
    use std::sync::Arc;

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

    /// Input that comes in pieces, as from `kubectl logs -f`; notes how many lines had been
    /// written out each time it is read.
    struct Trickle {
        pieces: VecDeque<&'static [u8]>,
        written: Arc<Mutex<Vec<u8>>>,
        seen: Vec<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let lines = self
                .written
                .lock()
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.seen.push(lines);
            let Some(piece) = self.pieces.pop_front() else {
                return Ok(0);
            };
            buf[..piece.len()].copy_from_slice(piece);
            Ok(piece.len())
        }
    }

    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_read_are_written_before_the_next_read_waits() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let mut input = Trickle {
            pieces: [&b"one\ntw"[..], b"o\n", b"three\nfour\n"].into(),
            written: written.clone(),
            seen: Vec::new(),
        };
        let limits = Limits {
            chunk: 1 << 18,
            workers: 2,
            in_flight: 4,
        };
        run(&mut input, Shared(written.clone()), limits).unwrap();
        // Before each read, every whole line read so far is out.
        assert_eq!(input.seen, [0, 1, 2, 4]);
        assert_eq!(
            written
                .lock()
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            4
        );
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
