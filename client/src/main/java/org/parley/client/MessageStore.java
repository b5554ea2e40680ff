package org.parley.client;

import java.util.List;

/** Durable message storage of one device. Every write is committed before the method returns. */
public interface MessageStore extends AutoCloseable {
    void insertOutgoing(StoredMessage m);

    /** Stores a received message; false if a message with that id was already stored (duplicate). */
    boolean insertIncoming(StoredMessage m);

    /** Marks an outgoing message delivered; false if unknown or already delivered. */
    boolean markDelivered(String id, String path);

    /** Queued outgoing messages to {@code peer}, in display order. */
    List<StoredMessage> queued(String peer);

    /** Users with queued outgoing messages. */
    List<String> queuedPeers();

    int queuedCount();

    /** The last {@code limit} messages with {@code peer}, in display order (hlc, then id). */
    List<StoredMessage> history(String peer, int limit);

    /** Highest hybrid-clock value stored, so the clock never runs backwards across restarts. */
    long maxHlc();

    @Override
    void close();
}
