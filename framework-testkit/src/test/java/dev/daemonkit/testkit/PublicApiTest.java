package dev.daemonkit.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** A plugin's tests see the kit and dev.daemonkit.api only: no public signature of the kit names an internal type. */
class PublicApiTest {

    @Test
    void noPublicSignatureOfTheKitNamesAFrameworkInternalType() {
        List<String> leaks = new ArrayList<>();
        for (Class<?> c : List.of(
                TestLauncher.class,
                LineClient.class,
                ByteClient.class,
                WebSocketClient.class,
                EventLoopStalls.class,
                LogLine.class)) {
            assertThat(Modifier.isPublic(c.getModifiers())).isTrue();
            for (Executable e : Stream.concat(Stream.of(c.getDeclaredMethods()), Stream.of(c.getDeclaredConstructors()))
                    .filter(e -> Modifier.isPublic(e.getModifiers()))
                    .toList()) {
                List<Type> types = new ArrayList<>(List.of(e.getGenericParameterTypes()));
                types.addAll(List.of(e.getGenericExceptionTypes()));
                if (e instanceof Method m) {
                    types.add(m.getGenericReturnType());
                }
                for (Type t : types) {
                    if (!t.getTypeName().startsWith("java.")
                            && !t.getTypeName().startsWith("dev.daemonkit.testkit.")
                            && !t.getTypeName().startsWith("dev.daemonkit.api.")
                            && !t.getTypeName().startsWith("org.junit.")
                            && !t.getTypeName().equals("void")
                            && !t.getTypeName().equals("boolean")
                            && !t.getTypeName().equals("long")
                            && !t.getTypeName().equals("int")
                            && !t.getTypeName().equals("byte[]")) {
                        leaks.add(c.getSimpleName() + "." + e.getName() + ": " + t.getTypeName());
                    }
                }
            }
        }
        assertThat(leaks).isEmpty();
    }
}
