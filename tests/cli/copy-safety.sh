#!/bin/bash
# p2pmem copy's promises to a user trusting it with disks, on the host
# (through host memory): a resume journal another user planted, a symbolic
# link, a replaced or truncated destination are refused; the default
# journal directory is private; a refused copy leaves no file; a bare file
# name is a file; progress on a terminal labels its phases, erases what it
# overwrites and ends on the summary's rate; --via chooses the path.
. "$(dirname "$0")/lib.inc"
work=$(mktemp -d /var/tmp/p2pmem-safety-test.XXXXXX)
shared=$(mktemp -d /var/tmp/p2pmem-shared-test.XXXXXX)
mnt=""
cleanup() {
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$work" "$shared"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
head -c 8M /dev/urandom >"$work/src"
json_field() { sed -n "s/.*\"$1\": \"\\{0,1\\}\\([^\",]*\\).*/\\1/p" | head -1; }

[ "$(id -u)" -eq 0 ] || { fail "these tests need root (another user, tmpfs)"; finish; }

# 1. A journal planted by another user in a shared directory (sticky,
# world-writable like /var/tmp), claiming the whole copy was written: root's
# --resume --verify must refuse it, not report success over an empty file.
chmod 1777 "$shared"
out=$("$P2PMEM_BIN" copy -q -o json --journal-dir "$shared" --allow-host-bounce "$work/src" "$work/victim")
journal=$(echo "$out" | json_field journal)
[ -n "$journal" ] || fail "no journal path in: $out"
: >"$work/victim"
identity="src=$work/src@0 dst=$work/victim@0 len=8388608"
runuser -u nobody -- sh -c "printf 'p2pmem-copy-journal 1\n%s\nwritten 8388608\nverified 8388608\n' '$identity' >'$journal'" ||
	fail "nobody could not write into the shared directory"
expect_exit 2 'belongs to another user.*planted' -- \
	"$P2PMEM_BIN" copy --journal-dir "$shared" --allow-host-bounce --resume --verify "$work/src" "$work/victim"
[ -s "$work/victim" ] && fail "a refused resume wrote to the destination"
# Without --resume the foreign journal is refused before a byte moves too
# (it could not be replaced at the first checkpoint).
expect_exit 2 'belongs to another user' -- \
	"$P2PMEM_BIN" copy --journal-dir "$shared" --allow-host-bounce "$work/src" "$work/victim"
rm -f "$journal"
# A symbolic link in its place is not followed.
ln -s /etc/hostname "$journal"
expect_exit 2 'symbolic link' -- \
	"$P2PMEM_BIN" copy --journal-dir "$shared" --allow-host-bounce --resume "$work/src" "$work/victim"
rm -f "$journal"

# 2. The default journal directory is private to the user, created 0700,
# and refused when others could write into it.
out=$(XDG_STATE_HOME=$work/state "$P2PMEM_BIN" copy -q -o json --allow-host-bounce "$work/src" "$work/d1")
journal=$(echo "$out" | json_field journal)
case $journal in "$work/state/p2pmem/"*) ;; *) fail "default journal not in \$XDG_STATE_HOME/p2pmem: $journal" ;; esac
[ "$(stat -c %a "$work/state/p2pmem")" = 700 ] || fail "journal directory mode $(stat -c %a "$work/state/p2pmem"), expected 700"
chmod 777 "$work/state/p2pmem"
expect_exit 2 'others can write into it' -- env XDG_STATE_HOME="$work/state" \
	"$P2PMEM_BIN" copy --allow-host-bounce "$work/src" "$work/d2"
[ -e "$work/d2" ] && fail "a copy refused for its journal directory created its destination"

# 3. A journal of other files (the destination replaced since) or of a
# destination truncated below its watermark is refused. The journal comes
# from a real failure: a destination filesystem that fills up midway.
mnt=$work/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=4M p2pmem-test "$mnt"
j="--journal-dir $work"
expect_exit 1 'No space left' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --bs 1M "$work/src" "$mnt/dst"
mount -o remount,size=32M "$mnt"
cp "$mnt/dst" "$work/dst.saved"
truncate -s 1M "$mnt/dst"
expect_exit 2 'ends before the journal.s watermark' -- \
	"$P2PMEM_BIN" copy $j --allow-host-bounce --resume "$work/src" "$mnt/dst"
cat "$work/dst.saved" >"$mnt/dst"		# the same file, whole again
mv "$mnt/dst" "$mnt/dst.orig"
cp "$mnt/dst.orig" "$mnt/dst"			# another file under the name
expect_exit 2 'written for other files than these' -- \
	"$P2PMEM_BIN" copy $j --allow-host-bounce --resume "$work/src" "$mnt/dst"
mv "$mnt/dst.orig" "$mnt/dst"
expect_exit 0 'resumed at byte [1-9]' -- \
	"$P2PMEM_BIN" copy $j --allow-host-bounce --resume --verify "$work/src" "$mnt/dst"
cmp -s "$work/src" "$mnt/dst" || fail "data differs after the resume"
umount "$mnt"
mnt=""

# 4. A refused copy writes nothing: no destination file appears.
for args in "--src-offset 1000" "--length 16M" "--length 1000" ""; do
	rm -f "$work/new"
	# shellcheck disable=SC2086 # $args is a word list
	expect_exit 2 '' -- "$P2PMEM_BIN" copy $j $args "$work/src" "$work/new"
	[ -e "$work/new" ] && fail "copy $args was refused but created its destination"
done

# 5. Bare file names are files.
(
	cd "$work" || exit 1
	expect_exit 0 'copied    8.0 MiB' -- "$P2PMEM_BIN" copy $j --allow-host-bounce src bare.bin
	cmp -s src bare.bin || fail "bare-name copy differs"
	"$P2PMEM_BIN" check src.none 2>&1 | grep -q "no device 'src.none'" || fail "a missing bare name is not reported as such"
	if "$P2PMEM_BIN" check src 2>&1 | grep -q "no device"; then
		fail "check src: a file in the current directory taken for a device name"
	fi
	exit $fails
) || fails=$((fails + $?))

# 6. --via: host memory on request; p2p insisted on is refused without it.
expect_exit 0 'host memory' -- "$P2PMEM_BIN" copy $j --via host "$work/src" "$work/v1"
expect_exit 2 'not on a PCI device|no provider' -- "$P2PMEM_BIN" copy $j --via p2p "$work/src" "$work/v2"
expect_exit 2 'drop --allow-host-bounce' -- "$P2PMEM_BIN" copy $j --via p2p --allow-host-bounce "$work/src" "$work/v2"
expect_exit 2 'takes device, p2p or host' -- "$P2PMEM_BIN" copy $j --via dram "$work/src" "$work/v2"
[ -e "$work/v2" ] && fail "a refused --via copy created its destination"

# 7. Progress on a terminal (a pty): phase labels with their own totals,
# erase to end of line, an ETA while running, and the copy line's final
# rate equal to the summary's.
head -c 32M /dev/urandom >"$work/src32"
script -qec "$P2PMEM_BIN copy $j --via host --verify --bs 4K --qd 1 $work/src32 $work/p32" /dev/null >"$work/tty.out"
tr '\r' '\n' <"$work/tty.out" >"$work/tty.lines"
grep -q '^copy   \[#*\] 100%  32.0 MiB of 32.0 MiB' "$work/tty.lines" || fail "no finished copy line: $(cat -v "$work/tty.lines" | tail -5)"
grep -q '^verify \[#*\] 100%  32.0 MiB of 32.0 MiB' "$work/tty.lines" || fail "no finished verify line"
grep -q $'\033\\[K' "$work/tty.out" || fail "progress does not erase to end of line"
grep -q 'ETA [0-9]*:[0-9][0-9]' "$work/tty.lines" || fail "no ETA while copying"
bar=$(grep '^copy   \[#*\] 100%' "$work/tty.lines" | tail -1 | grep -o '[0-9.]* [KMG]*i*B/s' | head -1)
summary=$(grep '^time ' "$work/tty.lines" | grep -o '[0-9.]* [KMG]*i*B/s' | head -1)
[ -n "$bar" ] && [ "$bar" = "$summary" ] || fail "final progress rate '$bar' differs from the summary's '$summary'"
finish
