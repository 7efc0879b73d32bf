package io.crmpi.daemon;

import io.crmpi.engine.TreeOwner;
import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Who is on the other end of a connection to crmpid, as the kernel says
 * (SO_PEERCRED), with the groups the user database gives them.
 *
 * @param name the user's name
 * @param uid the user's uid
 * @param owner whom this caller's trees run as; null for root (the admin's
 *     own trees run unchanged)
 */
record Caller(String name, int uid, TreeOwner owner) {
  static Caller of(SocketChannel channel) throws IOException {
    UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
    String name = peer.user().getName();
    Posix.Account account = Posix.account(name)
        .orElseThrow(() -> new IOException("user " + name + " is not in the user database"));
    if (account.uid() == 0) {
      return new Caller(name, 0, null);
    }
    java.util.List<Integer> groups = account.groups().stream().filter(g -> g != 0).toList();
    return new Caller(name, account.uid(), new TreeOwner(account.uid(), account.gid(), groups));
  }

  boolean isRoot() {
    return uid == 0;
  }

  @Override
  public String toString() {
    return name + " (uid " + uid + ")";
  }
}
