package org.parley.login;

import java.time.Instant;

/**
 * A device enrolled by a password login: its public key and the hash of its current refresh token.
 *
 * @param deviceId         {@link org.parley.identity.Keys#deviceId} of the public key
 * @param user             the account the device belongs to
 * @param publicKey        X.509 SubjectPublicKeyInfo of the device key
 * @param refreshTokenHash SHA-256 of the refresh token, lower-case hex (the token itself is never stored)
 * @param revoked          true if renewals are refused until the next password login
 * @param lastIssued       when the latest certificate was issued to the device
 */
public record DeviceRow(String deviceId, String user, byte[] publicKey, String refreshTokenHash, boolean revoked,
                        Instant lastIssued) {
    public DeviceRow {
        publicKey = publicKey.clone();
    }

    @Override
    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceRow d && deviceId.equals(d.deviceId) && user.equals(d.user)
                && java.util.Arrays.equals(publicKey, d.publicKey) && refreshTokenHash.equals(d.refreshTokenHash)
                && revoked == d.revoked && lastIssued.equals(d.lastIssued);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(deviceId, user, java.util.Arrays.hashCode(publicKey), refreshTokenHash, revoked,
                lastIssued);
    }

    @Override
    public String toString() {
        return "DeviceRow[" + deviceId + " user=" + user + (revoked ? " revoked" : "") + " lastIssued=" + lastIssued + "]";
    }
}
