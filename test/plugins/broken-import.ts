// A plugin whose own dependency is missing: the problem names the dependency, not the plugin.
// @ts-expect-error -- the missing module is the point of this fixture
import { nothing } from './does-not-exist.js';

export default nothing as unknown;
