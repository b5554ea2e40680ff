package org.parley.identity;

import java.util.Locale;

/** What an account's devices may do in the network. Carried in every device certificate. */
public enum Role {
    USER, SUPERNODE, ARCHIVE;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role parse(String s) {
        for (Role r : values()) if (r.wireName().equals(s)) return r;
        throw new IllegalArgumentException("unknown role '" + s + "' (expected user, supernode or archive)");
    }
}
