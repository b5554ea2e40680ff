package org.parley.login;

import java.time.Instant;
import org.parley.identity.Policy;
import org.parley.identity.Role;

/**
 * An account of the network as stored by the login server (the password hash is kept apart, see
 * {@link AccountStore#passwordHash(String)}).
 *
 * @param user     the user name (see {@link org.parley.identity.UserNames})
 * @param role     what the account's devices may do
 * @param disabled true if logins and renewals are refused
 * @param policy   the policy bound into the account's device certificates
 * @param created  when the account was added
 */
public record Account(String user, Role role, boolean disabled, Policy policy, Instant created) {
}
