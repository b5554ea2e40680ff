/**
 * The login server: the only holder of the network CA's private key. It owns the login server's data
 * folder ({@link org.parley.login.LoginServerData}: ca.key, tls.key, tls.crt, login.db, network.json),
 * the account and device store ({@link org.parley.login.AccountStore}, SQLite by default), password
 * hashing (Argon2id), login rate limiting, and the HTTPS/JSON endpoints of
 * {@link org.parley.identity.LoginApi} served by {@link org.parley.login.LoginServer}: password login,
 * refresh-token renewal, health and Prometheus metrics. Devices talk to it with
 * {@link org.parley.identity.LoginClient}, which pins the server's TLS key from network.json.
 */
package org.parley.login;
