package org.parley.login;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import java.nio.CharBuffer;
import org.parley.identity.Keys;
import org.parley.identity.LoginApi;

/** Argon2id password hashing (OWASP minimum: 19 MiB, 2 iterations, 1 lane) and the password rules. */
final class Passwords {
    static final int MEMORY_KIB = 19456;
    static final int ITERATIONS = 2;
    static final int PARALLELISM = 1;
    static final int OUTPUT_BYTES = 32;
    static final int SALT_BYTES = 16;
    private static final Argon2Function ARGON2 =
            Argon2Function.getInstance(MEMORY_KIB, ITERATIONS, PARALLELISM, OUTPUT_BYTES, Argon2.ID);

    private Passwords() {}

    /** Throws IllegalArgumentException with a one-line reason if the password breaks the length rules. */
    static void checkRules(char[] password) {
        if (password == null || password.length < AccountStore.MIN_PASSWORD_CHARS) {
            throw new IllegalArgumentException("password is too short: use at least "
                    + AccountStore.MIN_PASSWORD_CHARS + " characters");
        }
        if (password.length > LoginApi.MAX_PASSWORD_CHARS) {
            throw new IllegalArgumentException("password is too long: use at most "
                    + LoginApi.MAX_PASSWORD_CHARS + " characters");
        }
    }

    /** Argon2id hash in PHC string form. */
    static String hash(char[] password) {
        checkRules(password);
        return Password.hash(CharBuffer.wrap(password)).addRandomSalt(SALT_BYTES).with(ARGON2).getResult();
    }

    /** True if the password matches; false also for a malformed stored hash. */
    static boolean verify(CharSequence password, String hash) {
        if (hash == null || !hash.startsWith("$argon2")) return false;
        try {
            return Password.check(password, hash).with(Argon2Function.getInstanceFromHash(hash));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** A hash of a random password, checked against for unknown users so that timing does not reveal them. */
    static String dummyHash() {
        return hash(Keys.randomToken(24).toCharArray());
    }
}
