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
 * @param pid the connecting process (SO_PEERCRED), 0 when unknown
 */
record Caller(String name, int uid, TreeOwner owner, long pid) {
  static Caller of(SocketChannel channel, Accounts accounts) throws IOException {
    Posix.PeerCredentials peer = peerCredentials(channel);
    Posix.Account account = accounts.byUid(peer.uid())
        .orElseThrow(() -> new IOException("uid " + peer.uid() + " is not in the user database"));
    if (account.uid() == 0) {
      return new Caller(account.name(), 0, null, peer.pid());
    }
    java.util.List<Integer> groups = account.groups().stream().filter(g -> g != 0).toList();
    return new Caller(account.name(), account.uid(), new TreeOwner(account.uid(), account.gid(), groups), peer.pid());
  }

  /**
   * SO_PEERCRED on the channel's descriptor: the peer's pid and uid, as the
   * kernel recorded them at connect(). The JDK's own SO_PEERCRED option
   * gives no pid; reading the descriptor needs --add-opens
   * java.base/sun.nio.ch (bin/crmpid passes it). Without it, the JDK's
   * option gives the user, and the pid is 0 (unknown).
   */
  private static Posix.PeerCredentials peerCredentials(SocketChannel channel) throws IOException {
    try {
      java.lang.reflect.Method fdVal = channel.getClass().getMethod("getFDVal");
      fdVal.setAccessible(true);
      return Posix.peerCredentials((Integer) fdVal.invoke(channel));
    } catch (ReflectiveOperationException | RuntimeException e) {
      UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
      String name = peer.user().getName();
      Posix.Account account = Posix.account(name)
          .orElseThrow(() -> new IOException("user " + name + " is not in the user database"));
      return new Posix.PeerCredentials(0, account.uid(), account.gid());
    }
  }

  boolean isRoot() {
    return uid == 0;
  }

  @Override
  public String toString() {
    return name + " (uid " + uid + ")";
  }
}
