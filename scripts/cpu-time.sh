#!/usr/bin/env bash
# Compiler and linker launcher that appends "user+sys seconds<TAB>output" for each command to
# cpu-time.log in the build directory: CPU time, unlike ninja's wall times, does not grow when
# others build on the same cores. scripts/build-cpu-time.sh sets it up and sums the log.
out=unknown
prev=
for arg in "$@"; do
  [ "$prev" = -o ] && out=$arg
  prev=$arg
done
TIMEFORMAT='%U %S'
exec 3>&1 4>&2
times=$( { time "$@" 1>&3 2>&4; } 2>&1 )
rc=$?
read -r user sys <<<"$times"
awk -v u="$user" -v s="$sys" -v o="$out" 'BEGIN { printf "%.2f\t%s\n", u + s, o }' >>cpu-time.log
exit $rc
