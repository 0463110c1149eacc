import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { addRemote } from '../../core/config/edit-config.js';

export default class RemoteAdd extends BaseCommand {
  static override summary = 'Add a remote cache to mlpipe.yaml (the first one added becomes the default).';
  static override description = 'URL: s3://BUCKET/PREFIX (credentials from the AWS chain: environment or --profile), a folder every machine reaches (relative to mlpipe.yaml, or absolute), or file:///PATH. Nothing secret is written.';
  static override examples = [
    '<%= config.bin %> remote add origin s3://team-bucket/mlpipe --default',
    '<%= config.bin %> remote add minio s3://cache/mlpipe --endpoint http://127.0.0.1:9000 --path-style',
    '<%= config.bin %> remote add nfs /mnt/team/mlpipe-cache',
  ];
  static override args = {
    name: Args.string({ description: 'The remote\'s name, e.g. origin.', required: true }),
    url: Args.string({ description: 's3://BUCKET/PREFIX, a folder, or file:///PATH.', required: true }),
  };
  static override flags = {
    default: Flags.boolean({ description: 'Make it the default remote.', default: false }),
    endpoint: Flags.string({ description: 'S3 endpoint of an S3-compatible server, e.g. http://127.0.0.1:9000.' }),
    region: Flags.string({ description: 'S3 region.' }),
    'path-style': Flags.boolean({ description: 'Path-style S3 addressing (MinIO and most S3-compatible servers).' }),
    profile: Flags.string({ description: 'The AWS profile whose credentials are used.' }),
    force: Flags.boolean({ description: 'Replace a remote of that name.', default: false }),
  };

  async run(): Promise<{ file: string; name: string; url: string; default: boolean }> {
    const { args, flags } = await this.parse(RemoteAdd);
    const result = addRemote(
      args.name,
      { url: args.url, endpoint: flags.endpoint, region: flags.region, pathStyle: flags['path-style'] || undefined, profile: flags.profile },
      { makeDefault: flags.default, force: flags.force },
    );
    this.note(`${result.created ? 'created' : 'updated'} ${result.file}: remote ${args.name} → ${args.url}${result.isDefault ? ' (the default)' : ''}`);
    return { file: result.file, name: args.name, url: args.url, default: result.isDefault };
  }
}
