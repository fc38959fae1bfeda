#!/bin/sh
# Writes a man page (roff) made from a program's --help output on stdout, so
# the page never disagrees with the program.
# Usage: help-to-man.sh <program> <name> <version> <one-line summary>
set -eu
program=$1 name=$2 version=$3 summary=$4
title=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
help=$("$program" --help | sed "s|$program|$name|g")
cat <<EOF_MAN
.TH $title 1 "" "$name $version" "User Commands"
.SH NAME
$name \\- $summary
.SH DESCRIPTION
.nf
$(printf '%s\n' "$help" | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/")
.fi
.SH FILES
.TP
/etc/snorky/snorky.toml
The configuration of the packaged service (snorky.service).
.SH SEE ALSO
.BR snorky (1),
.BR snorky-call (1),
/usr/share/doc/snorky/
EOF_MAN
