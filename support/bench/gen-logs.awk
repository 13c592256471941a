# Writes about `mb` megabytes of ztunnel / istio-cni log text made from the real lines of the
# recorded files given as arguments, the way a busy node's `kubectl logs` looks: mostly
# connection lines of every era, some other ztunnel and istio-cni lines, and a little damage
# (kubectl prefixes, CRLF, blank, cut and non-UTF-8 lines).
#
# Usage: LC_ALL=C awk -v mb=150 -v seed=15 -f gen-logs.awk fixtures/recorded/*.log
# LC_ALL=C keeps printf "%c" a single byte, so the invalid UTF-8 stays invalid.

# Same rule as support::fixtures::recorded_lines: `#` lines and blank lines are comments.
/^#/ || /^[ \t\r]*$/ { next }
{
    if (FILENAME ~ /istio-cni/) cni[ncni++] = $0
    else zt[nzt++] = $0
}

# Timestamp fractions and the first port vary, so lines repeat rarely. match() + substr()
# rather than sub(): mawk's sub() with a replacement that changes on every call slows down
# with every call.
function vary(line) {
    if (match(line, /\.[0-9][0-9][0-9][0-9][0-9][0-9]Z/))
        line = substr(line, 1, RSTART - 1) sprintf(".%06dZ", int(rand() * 1000000)) substr(line, RSTART + RLENGTH)
    if (match(line, /:[0-9][0-9][0-9][0-9][0-9]/))
        line = substr(line, 1, RSTART - 1) ":" (10000 + int(rand() * 55535)) substr(line, RSTART + RLENGTH)
    return line
}

function garbage(    n, s, i) {
    n = 1 + int(rand() * 120)
    s = ""
    for (i = 0; i < n; i++) s = s sprintf("%c", 32 + int(rand() * 95))
    return s
}

function invalid_utf8(line,    at) {
    at = 1 + int(rand() * length(line))
    return substr(line, 1, at) sprintf("%c%c", 192 + int(rand() * 64), 128 + int(rand() * 200)) substr(line, at + 1)
}

END {
    if (nzt == 0 || ncni == 0) {
        print "gen-logs.awk: no recorded lines read" > "/dev/stderr"
        exit 1
    }
    srand(seed == "" ? 15 : seed)
    limit = (mb == "" ? 150 : mb) * 1000000
    written = 0
    while (written < limit) {
        r = rand()
        # 93%: a ztunnel line (connections of the three eras and ztunnel's other lines).
        if (r < 0.93) line = vary(zt[int(rand() * nzt)])
        # 4%: an istio-cni line (read through the enrollment path).
        else if (r < 0.97) line = vary(cni[int(rand() * ncni)])
        # 3%: damage of the kinds a pasted or interleaved log shows.
        else {
            d = rand()
            line = vary(zt[int(rand() * nzt)])
            if (d < 0.3) line = "[pod/ztunnel-5qpn7/istio-proxy] " line
            else if (d < 0.45) line = line "\r"
            else if (d < 0.6) line = ""
            else if (d < 0.75) line = substr(line, 1, int(rand() * length(line)))
            else if (d < 0.9) line = invalid_utf8(line)
            else line = garbage()
        }
        print line
        written += length(line) + 1
    }
}
