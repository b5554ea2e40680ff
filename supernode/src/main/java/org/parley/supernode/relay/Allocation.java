package org.parley.supernode.relay;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A newly allocated relay session: {@code tokenA} goes to device A and {@code tokenB} to device B, each
 * over its own authenticated control connection. Each token binds one side (16 random bytes from
 * {@link java.security.SecureRandom}).
 */
public record Allocation(long sessionId, byte[] tokenA, byte[] tokenB) {
    public Allocation {
        tokenA = tokenA.clone();
        tokenB = tokenB.clone();
    }

    @Override
    public byte[] tokenA() {
        return tokenA.clone();
    }

    @Override
    public byte[] tokenB() {
        return tokenB.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Allocation a && a.sessionId == sessionId && Arrays.equals(a.tokenA, tokenA)
                && Arrays.equals(a.tokenB, tokenB);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sessionId) * 31 + Arrays.hashCode(tokenA);
    }

    /** Does not show the tokens (they are credentials). */
    @Override
    public String toString() {
        return "Allocation[sessionId=" + sessionId + "]";
    }

    /** Hex of a token, for tools that pass it on as text. */
    public static String hex(byte[] token) {
        return HexFormat.of().formatHex(token);
    }
}
