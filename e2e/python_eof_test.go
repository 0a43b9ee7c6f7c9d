package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// pythonWebsockets returns Debian's python3 when it has the websockets
// library (python3-websockets, which .ci/run installs); the tests skip
// without it, and fail in CI.
func pythonWebsockets(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	err := exec.Command(py, "-c", "import websockets").Run()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Python websockets is not installed (%v): apt-get install python3-websockets", err)
		}
		t.Skip("Python websockets is not installed: apt-get install python3-websockets")
	}
	return py
}

// asyncioEcho is an echo server on websockets' asyncio implementation,
// which stops sending once a close frame has arrived (RFC 6455 allows it).
const asyncioEcho = `
import asyncio, sys, websockets
async def echo(ws, path=None):
    async for m in ws:
        await ws.send(m)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0) as srv:
        print("listening", srv.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(60)
asyncio.run(main())
`

// The README's first example against an asyncio server: the replies to
// the last lines come after stdin has ended, and must not be lost to the
// close frame (issue: wscope closed 77 µs after the last message).
func TestPythonEchoRepliesBeforeTheCloseAtEOF(t *testing.T) {
	t.Parallel()
	py := pythonWebsockets(t)
	port, _ := startListeningPeer(t, step, py, "-c", asyncioEcho)
	for i := 0; i < 5; i++ {
		r := run(t, "hello\nworld\n", "connect", "ws://127.0.0.1:"+port+"/")
		if r.Code != 0 || r.Stdout != "hello\nworld\n" {
			t.Fatalf("run %d: exit %d, stdout %q, stderr %q: want both echoes and exit 0", i, r.Code, r.Stdout, r.Stderr)
		}
	}
}
