package lakehouse.thrift;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import javax.security.sasl.AuthenticationException;
import org.apache.hive.service.auth.PasswdAuthenticationProvider;

/**
 * The SQL endpoint's password check (HiveServer2 CUSTOM authentication): one user and one password, both
 * from the server's environment (LAKEHOUSE_SQL_USER, default "analyst", and LAKEHOUSE_SQL_PASSWORD).
 * Compared in constant time so that the answer's timing tells nothing about the password.
 */
public class TokenAuthenticator implements PasswdAuthenticationProvider {
  @Override
  public void Authenticate(String user, String password) throws AuthenticationException {
    String expected = System.getenv("LAKEHOUSE_SQL_PASSWORD");
    String expectedUser = System.getenv().getOrDefault("LAKEHOUSE_SQL_USER", "analyst");
    if (expected == null || expected.isEmpty()) {
      throw new AuthenticationException("the server has no LAKEHOUSE_SQL_PASSWORD: nobody can sign in");
    }
    boolean userOk = same(expectedUser, user);
    boolean passwordOk = same(expected, password);
    if (!(userOk && passwordOk)) {
      throw new AuthenticationException("wrong user name or password");
    }
  }

  private static boolean same(String expected, String given) {
    byte[] a = expected.getBytes(StandardCharsets.UTF_8);
    byte[] b = (given == null ? "" : given).getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(a, b);
  }
}
