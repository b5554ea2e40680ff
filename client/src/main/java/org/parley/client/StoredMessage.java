package org.parley.client;

/**
 * A 1:1 message as stored. {@code state}: queued (sender, not yet acknowledged by any recipient device),
 * delivered (sender, acknowledged), received (recipient). {@code path}: direct or relayed, how it last travelled.
 */
public record StoredMessage(String id, String peer, String sender, String recipient, long hlc, long sentAtMillis,
                            String text, String state, String path, long storedAtMillis) {
    public static final String QUEUED = "queued";
    public static final String DELIVERED = "delivered";
    public static final String RECEIVED = "received";
}
