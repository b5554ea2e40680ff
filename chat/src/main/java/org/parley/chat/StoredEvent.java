package org.parley.chat;

import org.parley.protocol.ChatEvent;
import org.parley.protocol.WireFormatException;

/** An accepted event as stored: its id, conversation, decoded form and exact bytes, and when it was stored here. */
public record StoredEvent(byte[] id, byte[] conversation, ChatEvent event, byte[] encoded, long storedAtMillis) {
    public static StoredEvent of(ChatEvent.Decoded d, long storedAt) {
        return new StoredEvent(d.id(), d.event().conversationId(), d.event(), d.encoded(), storedAt);
    }

    /** Re-reads an event from the store (its bytes were checked when it was accepted). */
    static StoredEvent load(byte[] encoded, long storedAt) {
        try {
            return of(ChatEvent.decode(encoded), storedAt);
        } catch (WireFormatException e) {
            throw new IllegalStateException("stored event is corrupt: " + e.getMessage());
        }
    }

    public Id key() {
        return new Id(id);
    }
}
