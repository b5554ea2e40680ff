package org.parley.chat;

import org.parley.protocol.ChatEvent;

/** Checks that an event was signed by a device of its author that was certified at the event's time. */
public interface AuthorVerifier {
    /** @return null if the signature and certificate check out, otherwise why not (one line) */
    String check(ChatEvent e, byte[] canonicalBytes);
}
