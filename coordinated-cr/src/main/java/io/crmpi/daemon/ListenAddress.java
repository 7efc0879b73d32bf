package io.crmpi.daemon;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * An address to listen on, as an admin writes it in crmpi.conf: a literal
 * IPv4 or bracketed IPv6 address and a port ({@code 127.0.0.1:9464},
 * {@code [::1]:9464}, {@code 0.0.0.0:9464}). Host names are refused: what
 * a root daemon binds must not depend on a resolver.
 */
public final class ListenAddress {
  private ListenAddress() {}

  /** Parses value; the message of a refusal names what (e.g. the file and key) and the form wanted. */
  public static InetSocketAddress parse(String value, String what) {
    String v = value.strip();
    int colon = v.lastIndexOf(':');
    String host = colon < 0 ? "" : v.substring(0, colon);
    String port = colon < 0 ? "" : v.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      host = ""; // an IPv6 address without brackets: its port is ambiguous
    }
    int p = -1;
    if (port.matches("[0-9]{1,5}")) {
      p = Integer.parseInt(port);
    }
    if (host.isEmpty() || p < 1 || p > 65535 || !(host.matches("[0-9.]+") || host.contains(":"))) {
      throw new IllegalArgumentException(what + ": '" + value + "' is not ADDRESS:PORT (a literal address and a port"
          + " from 1 to 65535, e.g. 127.0.0.1:9464 or [::1]:9464)");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), p);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(what + ": '" + host + "' is not an IP address (e.g. 127.0.0.1)", e);
    }
  }
}
