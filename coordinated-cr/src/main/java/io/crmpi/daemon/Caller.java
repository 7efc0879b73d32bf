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
  static Caller of(SocketChannel channel) throws IOException {
    UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
    String name = peer.user().getName();
    long pid = peerPid(channel);
    Posix.Account account = Posix.account(name)
        .orElseThrow(() -> new IOException("user " + name + " is not in the user database"));
    if (account.uid() == 0) {
      return new Caller(name, 0, null, pid);
    }
    java.util.List<Integer> groups = account.groups().stream().filter(g -> g != 0).toList();
    return new Caller(name, account.uid(), new TreeOwner(account.uid(), account.gid(), groups), pid);
  }

  /**
   * The peer's pid: SO_PEERCRED on the channel's descriptor (the JDK's own
   * SO_PEERCRED option gives only the user and group). Needs
   * --add-opens java.base/sun.nio.ch (bin/crmpid passes it); 0 without.
   */
  private static long peerPid(SocketChannel channel) {
    try {
      java.lang.reflect.Method fdVal = channel.getClass().getMethod("getFDVal");
      fdVal.setAccessible(true);
      return Posix.peerCredentials((Integer) fdVal.invoke(channel)).pid();
    } catch (ReflectiveOperationException | RuntimeException e) {
      return 0;
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
