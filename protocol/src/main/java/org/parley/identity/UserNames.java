package org.parley.identity;

import java.util.regex.Pattern;

/** The one rule for user names, shared by the login server, the CLI and the wire codec. */
public final class UserNames {
    /** Lower-case letters, digits, dot, dash and underscore; 1-32 characters; starts with a letter or digit. */
    public static final Pattern PATTERN = Pattern.compile("[a-z0-9][a-z0-9._-]{0,31}");

    private UserNames() {}

    public static boolean isValid(String name) {
        return name != null && PATTERN.matcher(name).matches();
    }

    public static String check(String name) {
        if (!isValid(name)) {
            throw new IllegalArgumentException("user name '" + name
                    + "' is invalid: use 1-32 of a-z 0-9 . _ - starting with a letter or digit");
        }
        return name;
    }
}
