package io.crmpi.daemon;

import java.util.regex.Pattern;

/**
 * Which node tree a request to crmpid is about: a job key and a node slot.
 * It is the owner's name for the tree; crmpid looks it up among the trees
 * of the uid that asks (SO_PEERCRED), so one user can never name another
 * user's tree.
 */
public record TreeId(String job, String node) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}");

  public TreeId {
    require("job", job);
    require("node", node);
  }

  private static void require(String what, String value) {
    if (value == null || !NAME.matcher(value).matches()) {
      throw new IllegalArgumentException("bad " + what + " name '" + value
          + "': 1-128 of [A-Za-z0-9._@+-], starting with a letter or digit");
    }
  }

  @Override
  public String toString() {
    return "job " + job + " node " + node;
  }
}
