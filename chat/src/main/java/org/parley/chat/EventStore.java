package org.parley.chat;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Durable storage of one replica's conversations: accepted events, the author certificates that prove them,
 * and delivery receipts. Every write is committed (and survives a crash) before the method returns.
 * Implementations: {@link SqliteEventStore}; the interface is what a PostgreSQL store would implement.
 */
public interface EventStore extends AutoCloseable {
    /**
     * Stores events (already-stored ones are skipped) and certificates in one transaction. {@code via} records how
     * the events arrived (local, direct, relayed).
     */
    void insert(List<StoredEvent> events, Collection<byte[]> certificates, String via);

    /** How an event arrived (local, direct, relayed), or null if unknown. */
    String via(byte[] eventId);

    /** Ids of every conversation with at least one stored event. */
    List<byte[]> conversationIds();

    /** Every event of a conversation in display order (time, then id). */
    void forEach(byte[] conversation, Consumer<StoredEvent> sink);

    /** The stored events with these ids (missing ones are left out). */
    List<StoredEvent> get(Collection<byte[]> ids);

    /** The last {@code limit} events of the given kinds, in display order. */
    List<StoredEvent> last(byte[] conversation, Set<Integer> kindCodes, int limit);

    /** Events of a conversation that name a target and are not older than {@code fromHlc}, in display order. */
    List<StoredEvent> modifiersSince(byte[] conversation, long fromHlc);

    /** Certificates (DER) stored for a device. */
    List<byte[]> certificates(String deviceHex);

    /** Records that a device of {@code user} confirmed holding these events ({@code path}: how the confirmation came). */
    int addReceipts(Collection<byte[]> eventIds, String user, String path);

    /** Users that confirmed holding each of the given events. */
    Map<Id, Set<String>> receipts(Collection<byte[]> eventIds);

    /** The path of the first confirmation of an event, or null. */
    String receiptPath(byte[] eventId);

    /** Events by {@code author} since {@code sinceHlc} with no receipt from anyone: the outbox, oldest first. */
    List<StoredEvent> unconfirmed(String author, long sinceHlc, int limit);

    /** Number of events by {@code author} with no receipt since {@code sinceHlc}. */
    int unconfirmedCount(String author, long sinceHlc);

    /** The highest event time stored, so the local clock never runs backwards across restarts. */
    long maxHlc();

    /** Number of stored events. */
    long count();

    @Override
    void close();
}
