package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.crmpi.coordinator.StoragePlan;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The storage options a job keeps in its spec, and the plan the coordinator gets from them. */
class StorageSpecTest {
  @Test
  void partnerCopiesNeedANodeLocalDirectoryAndAreOffInOlderSpecs() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new StorageSpec(null, "shared", 1, 1, StorageSpec.FILES, 0, true));
    assertTrue(e.getMessage().contains("--partner-copy needs --local-dir"), e.getMessage());
    StorageSpec old = new ObjectMapper().readValue("{\"localDir\":\"/dev/shm\",\"commitAt\":\"local\","
        + "\"flushEvery\":1,\"localKeep\":2,\"flushFormat\":\"chunks\",\"zstdLevel\":1}", StorageSpec.class);
    assertEquals(Boolean.FALSE, old.partnerCopy());
    assertFalse(old.plan("job", 1000, Duration.ofHours(1)).partnerCopy());
  }

  @Test
  void thePlanCarriesPartnerCopies() {
    StoragePlan plan = new StorageSpec("/dev/shm", "local", 1, 2, StorageSpec.CHUNKS, 1, true)
        .plan("job", 1000, Duration.ofHours(1));
    assertTrue(plan.partnerCopy());
    assertEquals(Path.of("/dev/shm/crmpi-1000/job"), plan.localJobDir());
    assertTrue(plan.describe().contains("copied to a partner node"), plan.describe());
  }

  @Test
  void partnerIsNoCommitLevel() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new StorageSpec("/dev/shm", "partner", 1, 1, StorageSpec.FILES, 0, true));
    assertTrue(e.getMessage().contains("--commit-at takes local or shared"), e.getMessage());
  }
}
