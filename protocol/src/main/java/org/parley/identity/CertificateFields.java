package org.parley.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The Parley X.509 extension: one non-critical UTF8String holding compact JSON of role and policy. */
final class CertificateFields {
    /** OID in the UUID arc (ITU-T X.667), so no registration is needed. */
    static final String OID = "2.25.198302114187430176436617419960318216581";
    private static final ObjectMapper JSON = new ObjectMapper();

    private CertificateFields() {}

    static String encode(Role role, Policy policy) {
        ObjectNode n = JSON.createObjectNode();
        n.put("v", 1);
        n.put("role", role.wireName());
        n.put("plan", policy.plan());
        n.put("minClientVersion", policy.minClientVersion());
        n.put("allowedHours", policy.allowedHours());
        n.put("bandwidthClass", policy.bandwidthClass());
        return n.toString();
    }

    record Decoded(Role role, Policy policy) {}

    static Decoded decode(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || n.path("v").asInt() != 1) throw new IllegalArgumentException("unknown certificate field version");
            Role role = Role.parse(n.path("role").asText());
            Policy p = new Policy(n.path("plan").asText(), n.path("minClientVersion").asInt(),
                    n.path("allowedHours").asText(), n.path("bandwidthClass").asText());
            return new Decoded(role, p);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("certificate fields are not JSON");
        }
    }
}
