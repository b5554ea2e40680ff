package org.parley.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteMessageStoreTest {
    @TempDir
    Path dir;

    private static StoredMessage out(String id, String to, long hlc) {
        return new StoredMessage(id, to, "alice", to, hlc, 1000, "text " + id, StoredMessage.QUEUED, null, 1000);
    }

    private static StoredMessage in(String id, String from, long hlc) {
        return new StoredMessage(id, from, from, "alice", hlc, 1000, "text " + id, StoredMessage.RECEIVED, "direct", 1000);
    }

    @Test
    void historyIsOrderedByHybridClockThenIdWhateverTheArrivalOrder() {
        try (SqliteMessageStore s = new SqliteMessageStore(dir.resolve("m.db"))) {
            s.insertIncoming(in("c", "bob", 30));
            s.insertOutgoing(out("b", "bob", 20));
            s.insertIncoming(in("a2", "bob", 10));
            s.insertOutgoing(out("a1", "bob", 10));
            assertThat(s.history("bob", 100)).extracting(StoredMessage::id).containsExactly("a1", "a2", "b", "c");
            assertThat(s.history("bob", 2)).extracting(StoredMessage::id).containsExactly("b", "c");
            assertThat(s.history("carol", 10)).isEmpty();
            assertThat(s.maxHlc()).isEqualTo(30);
        }
    }

    @Test
    void duplicatesAreStoredOnceAndDeliveryIsMarkedOnce() {
        try (SqliteMessageStore s = new SqliteMessageStore(dir.resolve("m.db"))) {
            assertThat(s.insertIncoming(in("x", "bob", 1))).isTrue();
            assertThat(s.insertIncoming(in("x", "bob", 1))).isFalse();
            assertThat(s.history("bob", 10)).hasSize(1);
            s.insertOutgoing(out("y", "carol", 2));
            s.insertOutgoing(out("z", "bob", 3));
            assertThat(s.queuedCount()).isEqualTo(2);
            assertThat(s.queuedPeers()).containsExactlyInAnyOrder("bob", "carol");
            assertThat(s.markDelivered("y", "relayed")).isTrue();
            assertThat(s.markDelivered("y", "direct")).isFalse();
            assertThat(s.markDelivered("nope", "direct")).isFalse();
            assertThat(s.queued("carol")).isEmpty();
            assertThat(s.queued("bob")).extracting(StoredMessage::id).containsExactly("z");
            assertThat(s.history("carol", 10).get(0).path()).isEqualTo("relayed");
        }
    }

    @Test
    void everythingSurvivesReopening() {
        try (SqliteMessageStore s = new SqliteMessageStore(dir.resolve("m.db"))) {
            s.insertOutgoing(out("q", "bob", 5));
            s.insertIncoming(in("r", "bob", 6));
        }
        try (SqliteMessageStore s = new SqliteMessageStore(dir.resolve("m.db"))) {
            assertThat(s.queued("bob")).extracting(StoredMessage::id).containsExactly("q");
            assertThat(s.history("bob", 10)).extracting(StoredMessage::text).containsExactly("text q", "text r");
            assertThat(s.maxHlc()).isEqualTo(6);
        }
    }
}
