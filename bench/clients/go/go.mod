module wsgen.bench/clients

go 1.23.0

require (
	example.com/chat-client v0.0.0
	example.com/session-client v0.0.0
	github.com/coder/websocket v1.8.15
)

// The generated libraries, by path (bench/clients.sh generates them into gen/).
replace example.com/chat-client => ./gen/chat

replace example.com/session-client => ./gen/session
