package org.parley.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * network.json: the one file a client, supernode or archive needs to join a network.
 *
 * @param name         network name (also the O= of every certificate)
 * @param caPublicKey  the network CA's Ed25519 public key
 * @param loginServer  where the login server listens (HTTPS)
 * @param loginPin     pin of the login server's TLS key, "sha256/BASE64"
 * @param seeds        seed supernodes (QUIC), in order of preference
 */
public record NetworkFile(String name, PublicKey caPublicKey, HostPort loginServer, String loginPin,
                          List<HostPort> seeds) {
    public static final String FORMAT = "parley-network/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public NetworkFile {
        seeds = List.copyOf(seeds);
    }

    public NetworkFile withSeeds(List<HostPort> newSeeds) {
        return new NetworkFile(name, caPublicKey, loginServer, loginPin, newSeeds);
    }

    public NetworkFile withLoginServer(HostPort hp) {
        return new NetworkFile(name, caPublicKey, hp, loginPin, seeds);
    }

    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("format", FORMAT);
        n.put("name", name);
        n.put("caPublicKey", Base64.getEncoder().encodeToString(caPublicKey.getEncoded()));
        n.put("loginServer", loginServer.toString());
        n.put("loginPin", loginPin);
        ArrayNode a = n.putArray("seeds");
        seeds.forEach(s -> a.add(s.toString()));
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path file) {
        Keys.writeAtomically(file, toJson().getBytes(StandardCharsets.UTF_8), false);
    }

    public static NetworkFile load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NetworkFileException("network file " + file + " does not exist");
        } catch (IOException e) {
            throw new NetworkFileException("cannot read network file " + file + ": " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    public static NetworkFile parse(String text, String origin) {
        JsonNode n;
        try {
            n = JSON.readTree(text);
        } catch (IOException e) {
            throw new NetworkFileException("network file " + origin + " is not valid JSON");
        }
        if (n == null || !n.isObject()) throw new NetworkFileException("network file " + origin + " is not a JSON object");
        if (!FORMAT.equals(n.path("format").asText())) {
            throw new NetworkFileException("network file " + origin + " is not a " + FORMAT + " file (field 'format')");
        }
        try {
            String name = required(n, "name", origin);
            PublicKey ca = Keys.publicKey(Base64.getDecoder().decode(required(n, "caPublicKey", origin)));
            if (!"Ed25519".equalsIgnoreCase(ca.getAlgorithm()) && !"EdDSA".equalsIgnoreCase(ca.getAlgorithm())) {
                throw new NetworkFileException("network file " + origin + ": caPublicKey is not an Ed25519 key");
            }
            HostPort login = HostPort.parse(required(n, "loginServer", origin));
            String pin = required(n, "loginPin", origin);
            if (!pin.startsWith("sha256/")) throw new NetworkFileException("network file " + origin + ": loginPin must start with sha256/");
            List<HostPort> seeds = new ArrayList<>();
            JsonNode seedList = n.path("seeds");
            if (!seedList.isMissingNode() && !seedList.isArray()) {
                throw new NetworkFileException("network file " + origin + ": field 'seeds' must be a list of HOST:PORT strings");
            }
            for (JsonNode s : seedList) {
                if (!s.isTextual()) throw new NetworkFileException("network file " + origin + ": every seed must be a HOST:PORT string");
                seeds.add(HostPort.parse(s.asText()));
            }
            return new NetworkFile(name, ca, login, pin, seeds);
        } catch (IllegalArgumentException e) {
            throw new NetworkFileException("network file " + origin + " is invalid: " + e.getMessage());
        }
    }

    private static String required(JsonNode n, String field, String origin) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new NetworkFileException("network file " + origin + " lacks field '" + field + "'");
        }
        return v.asText();
    }
}
