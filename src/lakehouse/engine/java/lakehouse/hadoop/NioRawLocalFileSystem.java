package lakehouse.hadoop;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsAction;
import org.apache.hadoop.fs.permission.FsPermission;

/**
 * Hadoop's local file system with permissions and links read and set through java.nio.
 *
 * <p>Without Hadoop's native library (it does not ship with pyspark) the stock implementation starts a
 * {@code chmod} process for every file and folder it creates and a {@code readlink} process for every
 * rename through FileContext (each Delta commit): over a thousand processes in a small build. The same
 * calls here are system calls of this JVM. Everything else is the stock implementation.
 */
public class NioRawLocalFileSystem extends RawLocalFileSystem {

  @Override
  public void setPermission(Path p, FsPermission permission) throws IOException {
    java.nio.file.Path path = pathToFile(p).toPath();
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileNotFoundException("File " + p + " does not exist");
    }
    Files.setPosixFilePermissions(path, toPosix(permission));
  }

  @Override
  public FileStatus getFileLinkStatus(Path f) throws IOException {
    java.nio.file.Path path = pathToFile(f).toPath();
    if (!Files.isSymbolicLink(path)) {
      // not a link: its own status (a missing file throws FileNotFoundException, as the stock one does)
      return getFileStatus(f);
    }
    FileStatus status = super.getFileLinkStatus(f);
    return status;
  }

  @Override
  public boolean supportsSymlinks() {
    return true;
  }

  static Set<PosixFilePermission> toPosix(FsPermission permission) {
    Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
    add(out, permission.getUserAction(), PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
        PosixFilePermission.OWNER_EXECUTE);
    add(out, permission.getGroupAction(), PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
        PosixFilePermission.GROUP_EXECUTE);
    add(out, permission.getOtherAction(), PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
        PosixFilePermission.OTHERS_EXECUTE);
    return out;
  }

  private static void add(Set<PosixFilePermission> out, FsAction action, PosixFilePermission read,
      PosixFilePermission write, PosixFilePermission execute) {
    if (action.implies(FsAction.READ)) {
      out.add(read);
    }
    if (action.implies(FsAction.WRITE)) {
      out.add(write);
    }
    if (action.implies(FsAction.EXECUTE)) {
      out.add(execute);
    }
  }
}
