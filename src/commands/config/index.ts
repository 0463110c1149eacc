import ConfigList from './list.js';

export default class Config extends ConfigList {
  static override summary = 'Project configuration (mlpipe.yaml): `config` alone lists the effective settings; see config get|set|unset|list.';
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config get tracker', '<%= config.bin %> config set tracker postgresql://ana@db:5432/mlpipe', '<%= config.bin %> config unset executor'];
}
