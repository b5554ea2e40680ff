/**
 * Call signalling as pure logic: {@link org.parley.media.call.CallAgent} runs every call of one device (ring all the
 * callee's devices, first answer wins, the others stop with "answered elsewhere"; reject, busy, timeouts, cancel,
 * hang-up). It takes frames and commands, returns effects, and reads time from an injected clock, so the same code
 * runs in tests that deliver frames in any order and in the client daemon.
 */
package org.parley.media.call;
