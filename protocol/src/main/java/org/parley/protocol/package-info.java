/**
 * The wire protocol, in one place: stream frame layout and its limits ({@link org.parley.protocol.Limits}),
 * every frame type ({@link org.parley.protocol.Frame}), the codec ({@link org.parley.protocol.FrameCodec},
 * pure, no sockets), protocol error codes, end-to-end sealing of payloads routed through supernodes
 * ({@link org.parley.protocol.Sealing}) and the hybrid logical clock used to order messages.
 */
package org.parley.protocol;
