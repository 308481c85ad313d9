/**
 * The pages behind the login, each its own lazily loaded chunk so the first page ships little
 * JavaScript. Entries with `nav` appear in the side menu in this order; a feature adds its page by
 * adding one entry here.
 */
import {
  AlertOutlined,
  ApartmentOutlined,
  BugOutlined,
  CloudServerOutlined,
  ClusterOutlined,
  DashboardOutlined,
  DeploymentUnitOutlined,
  SafetyOutlined,
  SwapOutlined,
} from '@ant-design/icons';
import { lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from 'react';
import type { MessageKey } from './i18n/messages';

export interface PageRoute {
  path: string;
  Page: LazyExoticComponent<ComponentType>;
  nav?: { key: MessageKey; icon: ReactNode };
}

/** `lazy` for a named export: pages export `XPage`, never default. */
function page<M>(load: () => Promise<M>, pick: (m: M) => ComponentType): LazyExoticComponent<ComponentType> {
  return lazy(async () => ({ default: pick(await load()) }));
}

export const ROUTES: PageRoute[] = [
  {
    path: '/',
    Page: page(() => import('../features/dashboard/DashboardPage'), (m) => m.DashboardPage),
    nav: { key: 'nav.dashboard', icon: <DashboardOutlined /> },
  },
  {
    path: '/map',
    Page: page(() => import('../features/map/MapPage'), (m) => m.MapPage),
    nav: { key: 'nav.map', icon: <DeploymentUnitOutlined /> },
  },
  {
    path: '/policies',
    Page: page(() => import('../features/policies/PoliciesPage'), (m) => m.PoliciesPage),
    nav: { key: 'nav.policies', icon: <SafetyOutlined /> },
  },
  {
    path: '/groups',
    Page: page(() => import('../features/groups/GroupsPage'), (m) => m.GroupsPage),
    nav: { key: 'nav.groups', icon: <ClusterOutlined /> },
  },
  {
    path: '/workloads',
    Page: page(() => import('../features/workloads/WorkloadsPage'), (m) => m.WorkloadsPage),
    nav: { key: 'nav.workloads', icon: <ApartmentOutlined /> },
  },
  { path: '/workloads/:id', Page: page(() => import('../features/workloads/WorkloadDetailPage'), (m) => m.WorkloadDetailPage) },
  {
    path: '/connections',
    Page: page(() => import('../features/connections/ConnectionsPage'), (m) => m.ConnectionsPage),
    nav: { key: 'nav.connections', icon: <SwapOutlined /> },
  },
  {
    path: '/violations',
    Page: page(() => import('../features/violations/ViolationsPage'), (m) => m.ViolationsPage),
    nav: { key: 'nav.violations', icon: <AlertOutlined /> },
  },
  {
    path: '/threats',
    Page: page(() => import('../features/threats/ThreatsPage'), (m) => m.ThreatsPage),
    nav: { key: 'nav.threats', icon: <BugOutlined /> },
  },
  {
    path: '/agents',
    Page: page(() => import('../features/agents/AgentsPage'), (m) => m.AgentsPage),
    nav: { key: 'nav.agents', icon: <CloudServerOutlined /> },
  },
];
