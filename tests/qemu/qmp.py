#!/usr/bin/env python3
"""qmp.py SOCKET COMMAND [ARGS-JSON]: run one QMP command, print the JSON
"return" value on stdout; exit 1 with the error on stderr if it fails.
COMMAND "hmp:..." runs a human monitor command and prints its text."""
import json
import socket
import sys


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    if cmd.startswith("hmp:"):
        args = {"command-line": cmd[4:]}
        cmd = "human-monitor-command"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rw")

    def call(name, arguments=None):
        req = {"execute": name}
        if arguments is not None:
            req["arguments"] = arguments
        f.write(json.dumps(req) + "\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if "event" in msg:
                continue
            return msg

    json.loads(f.readline())  # greeting
    call("qmp_capabilities")
    rsp = call(cmd, args)
    if "error" in rsp:
        print("qmp: %s: %s" % (cmd, rsp["error"].get("desc")), file=sys.stderr)
        sys.exit(1)
    ret = rsp.get("return")
    if isinstance(ret, str):
        sys.stdout.write(ret)
    else:
        print(json.dumps(ret, indent=1))


if __name__ == "__main__":
    main()
