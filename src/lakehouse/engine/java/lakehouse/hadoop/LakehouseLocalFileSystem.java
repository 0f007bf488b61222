package lakehouse.hadoop;

import org.apache.hadoop.fs.LocalFileSystem;

/** The local file system (with its checksums, as the stock one) over {@link NioRawLocalFileSystem}. */
public class LakehouseLocalFileSystem extends LocalFileSystem {
  public LakehouseLocalFileSystem() {
    super(new NioRawLocalFileSystem());
  }
}
