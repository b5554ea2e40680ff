/**
 * Example bots. They use nothing of Parley's code, only the client daemon's documented local API (REST and the
 * WebSocket event stream, docs/openapi.yaml): {@link org.parley.bots.BotClient} connects to a daemon through its
 * {@code api.json}, {@link org.parley.bots.EchoBot} answers every message. A bot is a user with its own account and
 * device daemon.
 */
package org.parley.bots;
