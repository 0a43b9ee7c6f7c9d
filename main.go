// Command wscope shows every WebSocket frame as it is on the wire.
package main

import (
	"os"

	"github.com/wscope/wscope/cmd"
)

func main() {
	os.Exit(cmd.Execute())
}
