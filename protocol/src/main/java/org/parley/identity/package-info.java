/**
 * Identity: the network file, key pairs and their files, the network certificate authority, device
 * certificates with their policy, offline certificate verification, and the HTTPS/JSON login API
 * (request/response records and the pinned-TLS client) that devices, supernodes and archives use to
 * obtain and renew certificates. No sockets are opened here except by {@link org.parley.identity.LoginClient}.
 */
package org.parley.identity;
