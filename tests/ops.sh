#!/usr/bin/env bash
# ops.sh: operations behaviour of `massagebot run` (see ops_test.py).
exec /usr/bin/python3 "$(dirname "$0")/ops_test.py"
