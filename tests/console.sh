#!/usr/bin/env bash
# console.sh: the console bot and `ask` on a terminal (see console_test.py).
exec /usr/bin/python3 "$(dirname "$0")/console_test.py"
