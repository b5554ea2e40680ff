package org.parley.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.parley.identity.Keys;
import org.parley.identity.UserNames;

/**
 * The user's own contact list on this device: one user name per line in HOME/contacts.txt, written atomically.
 * Users one shares a conversation with are contacts anyway; this list adds people one has not talked to yet.
 */
final class Contacts {
    static final String FILE = "contacts.txt";
    /** Enough for any address book; keeps the presence subscription bounded. */
    static final int MAX = 1000;

    private final Path file;
    private final TreeSet<String> users = new TreeSet<>();

    Contacts(Path file) {
        this.file = file;
        try {
            if (Files.exists(file)) {
                for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    String u = l.strip();
                    if (UserNames.isValid(u)) users.add(u);
                }
            }
        } catch (IOException e) {
            // an unreadable list starts empty; the next add rewrites it
        }
    }

    synchronized List<String> list() {
        return new ArrayList<>(users);
    }

    synchronized void add(String user) {
        if (users.contains(user)) return;
        if (users.size() >= MAX) throw new ClientDaemon.BadRequest("the contact list is full (" + MAX + " users)");
        users.add(user);
        save();
    }

    synchronized void remove(String user) {
        if (users.remove(user)) save();
    }

    private void save() {
        Keys.writeAtomically(file, (String.join("\n", users) + "\n").getBytes(StandardCharsets.UTF_8), false);
    }
}
