package org.parley.chat;

import java.util.Arrays;
import java.util.HexFormat;

/** An event or conversation id as a map key: content equality, unsigned byte order. */
public record Id(byte[] bytes) implements Comparable<Id> {
    public Id {
        bytes = bytes.clone();
    }

    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Id i && Arrays.equals(bytes, i.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public int compareTo(Id o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
