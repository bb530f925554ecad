/**
 * The one place the edge imports dcmjs-dimse from: its logger (which prints association details
 * to the console and, with some options, whole datasets) is silenced before anything runs, and
 * the instance types the edge names are spelled out once.
 */
import dimse from 'dcmjs-dimse'

dimse.log.setLevel('silent')

export const { Scp, Dataset, Implementation, constants, requests, responses, association } = dimse
export type DimseScp = InstanceType<typeof Scp>
export type DimseResponse = InstanceType<typeof responses.Response>
export type DimseAssociation = Parameters<DimseScp['associationRequested']>[0]
export type DimsePresentationContext = ReturnType<DimseAssociation['getPresentationContext']>
