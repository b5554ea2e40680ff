package org.parley.app;

import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/** Base of tests that start servers and daemons by hand: closes them in reverse order after each test. */
abstract class Resources {
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeResources() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        open.clear();
    }

    /** Closes {@code c} after the test. */
    <T extends AutoCloseable> T keep(T c) {
        open.add(c);
        return c;
    }

    /** A UDP port free on 127.0.0.1 right now (for supernodes that must be seeds before they start). */
    static int freeUdpPort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            return s.getLocalPort();
        }
    }
}
