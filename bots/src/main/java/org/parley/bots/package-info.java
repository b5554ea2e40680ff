/**
 * Example bots on the client daemon's local API. The package owns programs that use nothing of Parley's code, only
 * the documented local HTTP API (REST and the WebSocket event stream, docs/openapi.yaml), the way any third-party
 * program would: {@link org.parley.bots.BotClient} finds a daemon through its {@code HOME/api.json} and speaks REST
 * and the event stream (reconnecting when the daemon restarts); {@link org.parley.bots.EchoBot} answers every message
 * it receives. A bot is a user like any other: its own account and its own device daemon.
 */
package org.parley.bots;
