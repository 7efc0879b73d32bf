package io.crmpi.engine;

import java.util.List;

/**
 * Whom a node tree runs as when root starts it for a user: the user's uid,
 * primary gid and supplementary groups. crmpi-ns becomes this user (and
 * drops every capability, and sets no_new_privs) before it runs anything
 * of the job.
 *
 * @param uid the owner's uid, never 0
 * @param gid the owner's primary gid, never 0
 * @param groups the owner's supplementary groups
 */
public record TreeOwner(int uid, int gid, List<Integer> groups) {
  public TreeOwner {
    if (uid <= 0) {
      throw new IllegalArgumentException("a tree owner must be an ordinary user, not uid " + uid);
    }
    if (gid <= 0) {
      throw new IllegalArgumentException("a tree owner's group must not be root's, got gid " + gid);
    }
    groups = List.copyOf(groups);
    if (groups.size() > 256) {
      throw new IllegalArgumentException("more than 256 supplementary groups: " + groups.size());
    }
  }

  /** crmpi-ns's --user argument: UID:GID[:GROUP,...]. */
  public String argument() {
    StringBuilder b = new StringBuilder().append(uid).append(':').append(gid);
    for (int i = 0; i < groups.size(); i++) {
      b.append(i == 0 ? ':' : ',').append(groups.get(i));
    }
    return b.toString();
  }
}
