/**
 * The {@code parley} program: the picocli command line (login-server, network, account, supernode,
 * client, demo), password input, error reporting as one line with a non-zero exit, and the demo network.
 */
package org.parley.app;
