package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.nativeio.Posix;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AccountsTest {
  private long now;
  private final List<Integer> lookups = new ArrayList<>();
  private List<Integer> aliceGroups = List.of(100);
  private final Accounts accounts = new Accounts(uid -> {
    lookups.add(uid);
    return uid == 1000 ? Optional.of(new Posix.Account("alice", 1000, 1000, aliceGroups)) : Optional.empty();
  }, () -> now);

  @Test
  void aUserIsLookedUpOnceWithinTheTimeToLive() {
    assertEquals("alice", accounts.byUid(1000).orElseThrow().name());
    now += Accounts.TTL_NANOS - 1;
    assertEquals(List.of(100), accounts.byUid(1000).orElseThrow().groups());
    assertEquals(List.of(1000), lookups);
  }

  @Test
  void aChangedGroupListIsSeenOnceTheEntryExpires() {
    accounts.byUid(1000);
    aliceGroups = List.of(100, 200);
    now += Accounts.TTL_NANOS;
    assertEquals(List.of(100, 200), accounts.byUid(1000).orElseThrow().groups());
    assertEquals(List.of(1000, 1000), lookups);
  }

  @Test
  void aUidWithoutAnAccountIsNeverCached() {
    assertTrue(accounts.byUid(4242).isEmpty());
    assertTrue(accounts.byUid(4242).isEmpty());
    assertEquals(List.of(4242, 4242), lookups);
  }

  @Test
  void theSystemDatabaseKnowsRootByUid() {
    Posix.Account root = Accounts.system().byUid(0).orElseThrow();
    assertEquals("root", root.name());
    assertEquals(0, root.gid());
  }
}
