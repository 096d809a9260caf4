// Parses ILM policy files with Elasticsearch's own parser (x-pack-core's LifecyclePolicy), so a policy
// the server would refuse fails the test suite instead of `logtrace setup` in production.
// Usage: java -cp <es>/lib/*:<es>/modules/x-pack-core/* IlmPolicyCheck.java policy.json...
// Each file holds a PUT _ilm/policy body ({"policy": {...}}); the policy name is the file name.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.elasticsearch.xcontent.NamedXContentRegistry;
import org.elasticsearch.xcontent.ParseField;
import org.elasticsearch.xcontent.XContentParser;
import org.elasticsearch.xcontent.XContentParserConfiguration;
import org.elasticsearch.xcontent.json.JsonXContent;
import org.elasticsearch.xpack.core.ilm.AllocateAction;
import org.elasticsearch.xpack.core.ilm.DeleteAction;
import org.elasticsearch.xpack.core.ilm.DownsampleAction;
import org.elasticsearch.xpack.core.ilm.ForceMergeAction;
import org.elasticsearch.xpack.core.ilm.LifecycleAction;
import org.elasticsearch.xpack.core.ilm.LifecyclePolicy;
import org.elasticsearch.xpack.core.ilm.LifecycleType;
import org.elasticsearch.xpack.core.ilm.MigrateAction;
import org.elasticsearch.xpack.core.ilm.ReadOnlyAction;
import org.elasticsearch.xpack.core.ilm.RolloverAction;
import org.elasticsearch.xpack.core.ilm.SetPriorityAction;
import org.elasticsearch.xpack.core.ilm.ShrinkAction;
import org.elasticsearch.xpack.core.ilm.TimeseriesLifecycleType;
import org.elasticsearch.xpack.core.ilm.WaitForSnapshotAction;

public class IlmPolicyCheck {
    public static void main(String[] args) throws Exception {
        // The entries the ILM plugin registers (x-pack-ilm is not in the minimal distribution; the classes are
        // in x-pack-core). Actions logtrace does not use are listed too, so a future policy parses the same way.
        List<NamedXContentRegistry.Entry> entries = new ArrayList<>();
        entries.add(new NamedXContentRegistry.Entry(LifecycleType.class, new ParseField(TimeseriesLifecycleType.TYPE),
            p -> TimeseriesLifecycleType.INSTANCE));
        entries.add(action(AllocateAction.NAME, AllocateAction::parse));
        entries.add(action(DeleteAction.NAME, DeleteAction::parse));
        entries.add(action(DownsampleAction.NAME, DownsampleAction::parse));
        entries.add(action(ForceMergeAction.NAME, ForceMergeAction::parse));
        entries.add(action(MigrateAction.NAME, MigrateAction::parse));
        entries.add(action(ReadOnlyAction.NAME, ReadOnlyAction::parse));
        entries.add(action(RolloverAction.NAME, RolloverAction::parse));
        entries.add(action(SetPriorityAction.NAME, SetPriorityAction::parse));
        entries.add(action(ShrinkAction.NAME, ShrinkAction::parse));
        entries.add(action(WaitForSnapshotAction.NAME, WaitForSnapshotAction::parse));
        NamedXContentRegistry registry = new NamedXContentRegistry(entries);
        XContentParserConfiguration config = XContentParserConfiguration.EMPTY.withRegistry(registry);
        int invalid = 0;
        for (String file : args) {
            String name = Path.of(file).getFileName().toString().replaceFirst("\\.json$", "");
            try (XContentParser parser = JsonXContent.jsonXContent.createParser(config, Files.readString(Path.of(file)))) {
                parser.nextToken();
                parser.nextToken();
                if (!"policy".equals(parser.currentName())) {
                    throw new IllegalArgumentException("top-level key must be [policy], got [" + parser.currentName() + "]");
                }
                parser.nextToken();
                // What the PUT _ilm/policy API checks: name, actions allowed per phase, phase order and timings.
                LifecyclePolicy.validatePolicyName(name);
                LifecyclePolicy policy = LifecyclePolicy.parse(parser, name);
                policy.validate();
                String timing = TimeseriesLifecycleType.validateMonotonicallyIncreasingPhaseTimings(policy.getPhases().values());
                if (timing != null && !timing.isEmpty()) {
                    throw new IllegalArgumentException(timing);
                }
                System.out.println("VALID " + name + " phases=" + List.copyOf(policy.getPhases().keySet()));
            } catch (Exception e) {
                invalid++;
                StringBuilder why = new StringBuilder(e.toString());
                for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                    why.append(" <- ").append(c);
                }
                System.out.println("INVALID " + name + ": " + why);
            }
        }
        System.exit(invalid == 0 ? 0 : 1);
    }

    interface ActionParser {
        LifecycleAction parse(XContentParser parser) throws java.io.IOException;
    }

    static NamedXContentRegistry.Entry action(String name, ActionParser parser) {
        return new NamedXContentRegistry.Entry(LifecycleAction.class, new ParseField(name), p -> parser.parse(p));
    }
}
