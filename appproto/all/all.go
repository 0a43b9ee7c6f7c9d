// Package all lists wscope's application protocol decoders, in the order
// the URL rules are tried.
package all

import (
	"github.com/wscope/wscope/appproto"
	"github.com/wscope/wscope/appproto/actioncable"
	"github.com/wscope/wscope/appproto/graphql"
	"github.com/wscope/wscope/appproto/jsonrpc"
	"github.com/wscope/wscope/appproto/mqtt"
	"github.com/wscope/wscope/appproto/phoenix"
	"github.com/wscope/wscope/appproto/signalr"
	"github.com/wscope/wscope/appproto/socketio"
	"github.com/wscope/wscope/appproto/stomp"
)

// Protocols are the decoders --decode names.
var Protocols = []appproto.Protocol{
	socketio.Protocol,
	graphql.Protocol,
	mqtt.Protocol,
	stomp.Protocol,
	jsonrpc.Protocol,
	signalr.Protocol,
	phoenix.Protocol,
	actioncable.Protocol,
}
