#!/usr/bin/env node
// Bench player: an autonomous agent. The file name puts "claude-autonomous" on the command line,
// which the default `autonomous.commands` patterns match.
import { runAutonomous } from './lib/autonomous.mjs';

await runAutonomous();
