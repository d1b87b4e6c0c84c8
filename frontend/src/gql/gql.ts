/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Me {\n    version\n    me {\n      id\n      email\n      userName\n      fullName\n      systemAdmin\n      memberships { id isAdmin organization { id name fullName folderPath } }\n    }\n  }\n": typeof types.MeDocument,
    "\n  mutation Login($login: String!, $password: String!) {\n    login(login: $login, password: $password) { id email }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Logout { logout }\n": typeof types.LogoutDocument,
    "\n  mutation ChangePassword($current: String!, $next: String!) {\n    changePassword(currentPassword: $current, newPassword: $next)\n  }\n": typeof types.ChangePasswordDocument,
    "\n  query Resource($path: String!) {\n    resource(path: $path) {\n      id\n      name\n      path\n      type\n      access\n      createdAt\n      updatedAt\n      lastRevisionAt\n      userAttributes\n      ancestors { id name path }\n      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }\n      url\n    }\n  }\n": typeof types.ResourceDocument,
    "\n  query Children($path: String!, $first: Int = 500, $after: String) {\n    resource(path: $path) {\n      id\n      children(first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges {\n          node {\n            id\n            name\n            path\n            type\n            updatedAt\n            lastRevisionAt\n            sequence { dataType units decimalPlaces }\n            lastValue { timestamp number text }\n            controller { online }\n          }\n        }\n      }\n    }\n  }\n": typeof types.ChildrenDocument,
    "\n  subscription SequenceUpdates($path: String!) {\n    sequenceUpdates(path: $path) { path timestamp number text contentType }\n  }\n": typeof types.SequenceUpdatesDocument,
    "\n  query Series($path: String!, $from: Time, $to: Time, $maxPoints: Int) {\n    resource(path: $path) {\n      id\n      series(from: $from, to: $to, maxPoints: $maxPoints) { start end count min max mean }\n    }\n  }\n": typeof types.SeriesDocument,
    "\n  query RecentValues($path: String!, $last: Int!, $before: String) {\n    resource(path: $path) {\n      id\n      lastValue { timestamp number text contentType }\n      values(last: $last, before: $before) {\n        pageInfo { hasPreviousPage startCursor }\n        edges { node { timestamp number text contentType } }\n      }\n    }\n  }\n": typeof types.RecentValuesDocument,
    "\n  query ImageValue($path: String!) {\n    resource(path: $path) { id lastValue { timestamp contentType thumbnailBase64(size: 640) } }\n  }\n": typeof types.ImageValueDocument,
    "\n  mutation UpdateSequence($path: String!, $value: String!) {\n    updateSequence(path: $path, value: $value) { timestamp number text }\n  }\n": typeof types.UpdateSequenceDocument,
    "\n  mutation CreateFolder($path: String!) { createFolder(path: $path) { id path } }\n": typeof types.CreateFolderDocument,
    "\n  mutation CreateFile($path: String!, $contentBase64: String, $contentType: String) {\n    createFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id path }\n  }\n": typeof types.CreateFileDocument,
    "\n  mutation CreateSequence($input: CreateSequenceInput!) { createSequence(input: $input) { id path } }\n": typeof types.CreateSequenceDocument,
    "\n  mutation CreateController($path: String!) { createController(path: $path) { id path } }\n": typeof types.CreateControllerDocument,
    "\n  mutation Rename($path: String!, $name: String!) { renameResource(path: $path, name: $name) { id name path } }\n": typeof types.RenameDocument,
    "\n  mutation Move($path: String!, $newParent: String!) { moveResource(path: $path, newParent: $newParent) { id name path } }\n": typeof types.MoveDocument,
    "\n  mutation Delete($path: String!) { deleteResource(path: $path) }\n": typeof types.DeleteDocument,
    "\n  mutation SequenceSettings($path: String!, $sequence: SequenceSettingsInput!) {\n    updateResourceAttributes(path: $path, sequence: $sequence) {\n      id\n      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }\n    }\n  }\n": typeof types.SequenceSettingsDocument,
    "\n  query Revisions($path: String!, $first: Int = 50, $after: String) {\n    resource(path: $path) {\n      id\n      url\n      revisions(first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { id timestamp size sha256 contentType url author { id email fullName } } }\n      }\n    }\n  }\n": typeof types.RevisionsDocument,
    "\n  mutation WriteFile($path: String!, $contentBase64: String!, $contentType: String) {\n    writeFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id timestamp size }\n  }\n": typeof types.WriteFileDocument,
    "\n  query Messages($path: String!, $types: [String!], $first: Int = 100, $after: String) {\n    resource(path: $path) {\n      id\n      messages(types: $types, first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { id type parameters timestamp senderUser { id email } senderController { id path } } }\n      }\n    }\n  }\n": typeof types.MessagesDocument,
    "\n  subscription FolderMessages($path: String!, $types: [String!]) {\n    folderMessages(path: $path, types: $types) {\n      id type parameters timestamp senderUser { id email } senderController { id path }\n    }\n  }\n": typeof types.FolderMessagesDocument,
    "\n  mutation SendMessage($path: String!, $type: String!, $parameters: JSON) {\n    sendMessage(path: $path, type: $type, parameters: $parameters) { id type parameters timestamp }\n  }\n": typeof types.SendMessageDocument,
    "\n  query Keys {\n    keys {\n      id name prefix createdAt revokedAt lastUsedAt\n      organization { id name }\n      asUser { id email }\n      asController { id path }\n    }\n  }\n": typeof types.KeysDocument,
    "\n  mutation CreateKey($input: CreateKeyInput!) {\n    createKey(input: $input) { secret key { id name prefix createdAt revokedAt } }\n  }\n": typeof types.CreateKeyDocument,
    "\n  mutation RevokeKey($id: ID!) { revokeKey(id: $id) { id revokedAt } }\n": typeof types.RevokeKeyDocument,
    "\n  query Controllers($path: String!) {\n    resource(path: $path) {\n      id\n      # Complexity weighs each field by the descendants cap: only what finds controllers.\n      descendants(depth: 6) { id path type }\n    }\n  }\n": typeof types.ControllersDocument,
    "\n  query ControllerLog($path: String!, $last: Int!) {\n    resource(path: $path) {\n      id\n      values(last: $last) { edges { node { timestamp number text } } }\n    }\n  }\n": typeof types.ControllerLogDocument,
    "\n  query Controller($path: String!) {\n    resource(path: $path) {\n      id\n      controller { online clientVersion lastConnectAt lastWatchdogAt watchdogMinutes }\n    }\n  }\n": typeof types.ControllerDocument,
    "\n  query Watchdog($path: String!) {\n    resource(path: $path) { id controller { watchdogMinutes watchdogRecipients } }\n  }\n": typeof types.WatchdogDocument,
    "\n  mutation SetWatchdog($path: String!, $minutes: Int!, $recipients: [String!]!) {\n    setWatchdog(path: $path, minutes: $minutes, recipients: $recipients) {\n      id controller { watchdogMinutes watchdogRecipients }\n    }\n  }\n": typeof types.SetWatchdogDocument,
    "\n  query Organization($name: String!) {\n    organization(name: $name) {\n      id name fullName folderPath\n      members { id isAdmin user { id email fullName } }\n    }\n  }\n": typeof types.OrganizationDocument,
    "\n  mutation AddMember($organization: String!, $email: String!, $admin: Boolean) {\n    addMember(organization: $organization, email: $email, admin: $admin) { id isAdmin }\n  }\n": typeof types.AddMemberDocument,
    "\n  mutation SetMemberAdmin($organization: String!, $email: String!, $admin: Boolean!) {\n    setMemberAdmin(organization: $organization, email: $email, admin: $admin) { id isAdmin }\n  }\n": typeof types.SetMemberAdminDocument,
    "\n  mutation RemoveMember($organization: String!, $email: String!) {\n    removeMember(organization: $organization, email: $email)\n  }\n": typeof types.RemoveMemberDocument,
    "\n  query Permissions($path: String!) {\n    resource(path: $path) {\n      id path access\n      permissions { id granteeType level user { id email } organization { id name } }\n    }\n  }\n": typeof types.PermissionsDocument,
    "\n  mutation Grant($path: String!, $grantee: GranteeInput!, $level: AccessLevel!) {\n    grantPermission(path: $path, grantee: $grantee, level: $level) { id }\n  }\n": typeof types.GrantDocument,
    "\n  mutation RevokePermission($id: ID!) { revokePermission(id: $id) }\n": typeof types.RevokePermissionDocument,
    "\n  query Admin {\n    organizations { id name fullName folderPath members { id } }\n  }\n\n": typeof types.AdminDocument,
    "\n  query Users($first: Int = 200, $after: String) {\n    users(first: $first, after: $after) {\n      edges { node { id email userName fullName systemAdmin createdAt lastLogin } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": typeof types.UsersDocument,
    "\n  query SourceHealth {\n    sourceHealth {\n      source ok checkedAt latencyMs error\n      formats { format ok records bytes latencyMs error }\n    }\n  }\n": typeof types.SourceHealthDocument,
    "\n  mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id email } }\n": typeof types.CreateUserDocument,
    "\n  mutation CreateOrganization($name: String!, $fullName: String) {\n    createOrganization(name: $name, fullName: $fullName) { id name }\n  }\n": typeof types.CreateOrganizationDocument,
    "\n  query Recent($first: Int) {\n    recentResources(first: $first) { id name path type updatedAt lastRevisionAt }\n  }\n": typeof types.RecentDocument,
};
const documents: Documents = {
    "\n  query Me {\n    version\n    me {\n      id\n      email\n      userName\n      fullName\n      systemAdmin\n      memberships { id isAdmin organization { id name fullName folderPath } }\n    }\n  }\n": types.MeDocument,
    "\n  mutation Login($login: String!, $password: String!) {\n    login(login: $login, password: $password) { id email }\n  }\n": types.LoginDocument,
    "\n  mutation Logout { logout }\n": types.LogoutDocument,
    "\n  mutation ChangePassword($current: String!, $next: String!) {\n    changePassword(currentPassword: $current, newPassword: $next)\n  }\n": types.ChangePasswordDocument,
    "\n  query Resource($path: String!) {\n    resource(path: $path) {\n      id\n      name\n      path\n      type\n      access\n      createdAt\n      updatedAt\n      lastRevisionAt\n      userAttributes\n      ancestors { id name path }\n      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }\n      url\n    }\n  }\n": types.ResourceDocument,
    "\n  query Children($path: String!, $first: Int = 500, $after: String) {\n    resource(path: $path) {\n      id\n      children(first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges {\n          node {\n            id\n            name\n            path\n            type\n            updatedAt\n            lastRevisionAt\n            sequence { dataType units decimalPlaces }\n            lastValue { timestamp number text }\n            controller { online }\n          }\n        }\n      }\n    }\n  }\n": types.ChildrenDocument,
    "\n  subscription SequenceUpdates($path: String!) {\n    sequenceUpdates(path: $path) { path timestamp number text contentType }\n  }\n": types.SequenceUpdatesDocument,
    "\n  query Series($path: String!, $from: Time, $to: Time, $maxPoints: Int) {\n    resource(path: $path) {\n      id\n      series(from: $from, to: $to, maxPoints: $maxPoints) { start end count min max mean }\n    }\n  }\n": types.SeriesDocument,
    "\n  query RecentValues($path: String!, $last: Int!, $before: String) {\n    resource(path: $path) {\n      id\n      lastValue { timestamp number text contentType }\n      values(last: $last, before: $before) {\n        pageInfo { hasPreviousPage startCursor }\n        edges { node { timestamp number text contentType } }\n      }\n    }\n  }\n": types.RecentValuesDocument,
    "\n  query ImageValue($path: String!) {\n    resource(path: $path) { id lastValue { timestamp contentType thumbnailBase64(size: 640) } }\n  }\n": types.ImageValueDocument,
    "\n  mutation UpdateSequence($path: String!, $value: String!) {\n    updateSequence(path: $path, value: $value) { timestamp number text }\n  }\n": types.UpdateSequenceDocument,
    "\n  mutation CreateFolder($path: String!) { createFolder(path: $path) { id path } }\n": types.CreateFolderDocument,
    "\n  mutation CreateFile($path: String!, $contentBase64: String, $contentType: String) {\n    createFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id path }\n  }\n": types.CreateFileDocument,
    "\n  mutation CreateSequence($input: CreateSequenceInput!) { createSequence(input: $input) { id path } }\n": types.CreateSequenceDocument,
    "\n  mutation CreateController($path: String!) { createController(path: $path) { id path } }\n": types.CreateControllerDocument,
    "\n  mutation Rename($path: String!, $name: String!) { renameResource(path: $path, name: $name) { id name path } }\n": types.RenameDocument,
    "\n  mutation Move($path: String!, $newParent: String!) { moveResource(path: $path, newParent: $newParent) { id name path } }\n": types.MoveDocument,
    "\n  mutation Delete($path: String!) { deleteResource(path: $path) }\n": types.DeleteDocument,
    "\n  mutation SequenceSettings($path: String!, $sequence: SequenceSettingsInput!) {\n    updateResourceAttributes(path: $path, sequence: $sequence) {\n      id\n      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }\n    }\n  }\n": types.SequenceSettingsDocument,
    "\n  query Revisions($path: String!, $first: Int = 50, $after: String) {\n    resource(path: $path) {\n      id\n      url\n      revisions(first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { id timestamp size sha256 contentType url author { id email fullName } } }\n      }\n    }\n  }\n": types.RevisionsDocument,
    "\n  mutation WriteFile($path: String!, $contentBase64: String!, $contentType: String) {\n    writeFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id timestamp size }\n  }\n": types.WriteFileDocument,
    "\n  query Messages($path: String!, $types: [String!], $first: Int = 100, $after: String) {\n    resource(path: $path) {\n      id\n      messages(types: $types, first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { id type parameters timestamp senderUser { id email } senderController { id path } } }\n      }\n    }\n  }\n": types.MessagesDocument,
    "\n  subscription FolderMessages($path: String!, $types: [String!]) {\n    folderMessages(path: $path, types: $types) {\n      id type parameters timestamp senderUser { id email } senderController { id path }\n    }\n  }\n": types.FolderMessagesDocument,
    "\n  mutation SendMessage($path: String!, $type: String!, $parameters: JSON) {\n    sendMessage(path: $path, type: $type, parameters: $parameters) { id type parameters timestamp }\n  }\n": types.SendMessageDocument,
    "\n  query Keys {\n    keys {\n      id name prefix createdAt revokedAt lastUsedAt\n      organization { id name }\n      asUser { id email }\n      asController { id path }\n    }\n  }\n": types.KeysDocument,
    "\n  mutation CreateKey($input: CreateKeyInput!) {\n    createKey(input: $input) { secret key { id name prefix createdAt revokedAt } }\n  }\n": types.CreateKeyDocument,
    "\n  mutation RevokeKey($id: ID!) { revokeKey(id: $id) { id revokedAt } }\n": types.RevokeKeyDocument,
    "\n  query Controllers($path: String!) {\n    resource(path: $path) {\n      id\n      # Complexity weighs each field by the descendants cap: only what finds controllers.\n      descendants(depth: 6) { id path type }\n    }\n  }\n": types.ControllersDocument,
    "\n  query ControllerLog($path: String!, $last: Int!) {\n    resource(path: $path) {\n      id\n      values(last: $last) { edges { node { timestamp number text } } }\n    }\n  }\n": types.ControllerLogDocument,
    "\n  query Controller($path: String!) {\n    resource(path: $path) {\n      id\n      controller { online clientVersion lastConnectAt lastWatchdogAt watchdogMinutes }\n    }\n  }\n": types.ControllerDocument,
    "\n  query Watchdog($path: String!) {\n    resource(path: $path) { id controller { watchdogMinutes watchdogRecipients } }\n  }\n": types.WatchdogDocument,
    "\n  mutation SetWatchdog($path: String!, $minutes: Int!, $recipients: [String!]!) {\n    setWatchdog(path: $path, minutes: $minutes, recipients: $recipients) {\n      id controller { watchdogMinutes watchdogRecipients }\n    }\n  }\n": types.SetWatchdogDocument,
    "\n  query Organization($name: String!) {\n    organization(name: $name) {\n      id name fullName folderPath\n      members { id isAdmin user { id email fullName } }\n    }\n  }\n": types.OrganizationDocument,
    "\n  mutation AddMember($organization: String!, $email: String!, $admin: Boolean) {\n    addMember(organization: $organization, email: $email, admin: $admin) { id isAdmin }\n  }\n": types.AddMemberDocument,
    "\n  mutation SetMemberAdmin($organization: String!, $email: String!, $admin: Boolean!) {\n    setMemberAdmin(organization: $organization, email: $email, admin: $admin) { id isAdmin }\n  }\n": types.SetMemberAdminDocument,
    "\n  mutation RemoveMember($organization: String!, $email: String!) {\n    removeMember(organization: $organization, email: $email)\n  }\n": types.RemoveMemberDocument,
    "\n  query Permissions($path: String!) {\n    resource(path: $path) {\n      id path access\n      permissions { id granteeType level user { id email } organization { id name } }\n    }\n  }\n": types.PermissionsDocument,
    "\n  mutation Grant($path: String!, $grantee: GranteeInput!, $level: AccessLevel!) {\n    grantPermission(path: $path, grantee: $grantee, level: $level) { id }\n  }\n": types.GrantDocument,
    "\n  mutation RevokePermission($id: ID!) { revokePermission(id: $id) }\n": types.RevokePermissionDocument,
    "\n  query Admin {\n    organizations { id name fullName folderPath members { id } }\n  }\n\n": types.AdminDocument,
    "\n  query Users($first: Int = 200, $after: String) {\n    users(first: $first, after: $after) {\n      edges { node { id email userName fullName systemAdmin createdAt lastLogin } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n": types.UsersDocument,
    "\n  query SourceHealth {\n    sourceHealth {\n      source ok checkedAt latencyMs error\n      formats { format ok records bytes latencyMs error }\n    }\n  }\n": types.SourceHealthDocument,
    "\n  mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id email } }\n": types.CreateUserDocument,
    "\n  mutation CreateOrganization($name: String!, $fullName: String) {\n    createOrganization(name: $name, fullName: $fullName) { id name }\n  }\n": types.CreateOrganizationDocument,
    "\n  query Recent($first: Int) {\n    recentResources(first: $first) { id name path type updatedAt lastRevisionAt }\n  }\n": types.RecentDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    version\n    me {\n      id\n      email\n      userName\n      fullName\n      systemAdmin\n      memberships { id isAdmin organization { id name fullName folderPath } }\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    version\n    me {\n      id\n      email\n      userName\n      fullName\n      systemAdmin\n      memberships { id isAdmin organization { id name fullName folderPath } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($login: String!, $password: String!) {\n    login(login: $login, password: $password) { id email }\n  }\n"): (typeof documents)["\n  mutation Login($login: String!, $password: String!) {\n    login(login: $login, password: $password) { id email }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout { logout }\n"): (typeof documents)["\n  mutation Logout { logout }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($current: String!, $next: String!) {\n    changePassword(currentPassword: $current, newPassword: $next)\n  }\n"): (typeof documents)["\n  mutation ChangePassword($current: String!, $next: String!) {\n    changePassword(currentPassword: $current, newPassword: $next)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Resource($path: String!) {\n    resource(path: $path) {\n      id\n      name\n      path\n      type\n      access\n      createdAt\n      updatedAt\n      lastRevisionAt\n      userAttributes\n      ancestors { id name path }\n      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }\n      url\n    }\n  }\n"): (typeof documents)["\n  query Resource($path: String!) {\n    resource(path: $path) {\n      id\n      name\n      path\n      type\n      access\n      createdAt\n      updatedAt\n      lastRevisionAt\n      userAttributes\n      ancestors { id name path }\n      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }\n      url\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Children($path: String!, $first: Int = 500, $after: String) {\n    resource(path: $path) {\n      id\n      children(first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges {\n          node {\n            id\n            name\n            path\n            type\n            updatedAt\n            lastRevisionAt\n            sequence { dataType units decimalPlaces }\n            lastValue { timestamp number text }\n            controller { online }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Children($path: String!, $first: Int = 500, $after: String) {\n    resource(path: $path) {\n      id\n      children(first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges {\n          node {\n            id\n            name\n            path\n            type\n            updatedAt\n            lastRevisionAt\n            sequence { dataType units decimalPlaces }\n            lastValue { timestamp number text }\n            controller { online }\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SequenceUpdates($path: String!) {\n    sequenceUpdates(path: $path) { path timestamp number text contentType }\n  }\n"): (typeof documents)["\n  subscription SequenceUpdates($path: String!) {\n    sequenceUpdates(path: $path) { path timestamp number text contentType }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Series($path: String!, $from: Time, $to: Time, $maxPoints: Int) {\n    resource(path: $path) {\n      id\n      series(from: $from, to: $to, maxPoints: $maxPoints) { start end count min max mean }\n    }\n  }\n"): (typeof documents)["\n  query Series($path: String!, $from: Time, $to: Time, $maxPoints: Int) {\n    resource(path: $path) {\n      id\n      series(from: $from, to: $to, maxPoints: $maxPoints) { start end count min max mean }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RecentValues($path: String!, $last: Int!, $before: String) {\n    resource(path: $path) {\n      id\n      lastValue { timestamp number text contentType }\n      values(last: $last, before: $before) {\n        pageInfo { hasPreviousPage startCursor }\n        edges { node { timestamp number text contentType } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query RecentValues($path: String!, $last: Int!, $before: String) {\n    resource(path: $path) {\n      id\n      lastValue { timestamp number text contentType }\n      values(last: $last, before: $before) {\n        pageInfo { hasPreviousPage startCursor }\n        edges { node { timestamp number text contentType } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ImageValue($path: String!) {\n    resource(path: $path) { id lastValue { timestamp contentType thumbnailBase64(size: 640) } }\n  }\n"): (typeof documents)["\n  query ImageValue($path: String!) {\n    resource(path: $path) { id lastValue { timestamp contentType thumbnailBase64(size: 640) } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateSequence($path: String!, $value: String!) {\n    updateSequence(path: $path, value: $value) { timestamp number text }\n  }\n"): (typeof documents)["\n  mutation UpdateSequence($path: String!, $value: String!) {\n    updateSequence(path: $path, value: $value) { timestamp number text }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateFolder($path: String!) { createFolder(path: $path) { id path } }\n"): (typeof documents)["\n  mutation CreateFolder($path: String!) { createFolder(path: $path) { id path } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateFile($path: String!, $contentBase64: String, $contentType: String) {\n    createFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id path }\n  }\n"): (typeof documents)["\n  mutation CreateFile($path: String!, $contentBase64: String, $contentType: String) {\n    createFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id path }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateSequence($input: CreateSequenceInput!) { createSequence(input: $input) { id path } }\n"): (typeof documents)["\n  mutation CreateSequence($input: CreateSequenceInput!) { createSequence(input: $input) { id path } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateController($path: String!) { createController(path: $path) { id path } }\n"): (typeof documents)["\n  mutation CreateController($path: String!) { createController(path: $path) { id path } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Rename($path: String!, $name: String!) { renameResource(path: $path, name: $name) { id name path } }\n"): (typeof documents)["\n  mutation Rename($path: String!, $name: String!) { renameResource(path: $path, name: $name) { id name path } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Move($path: String!, $newParent: String!) { moveResource(path: $path, newParent: $newParent) { id name path } }\n"): (typeof documents)["\n  mutation Move($path: String!, $newParent: String!) { moveResource(path: $path, newParent: $newParent) { id name path } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Delete($path: String!) { deleteResource(path: $path) }\n"): (typeof documents)["\n  mutation Delete($path: String!) { deleteResource(path: $path) }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SequenceSettings($path: String!, $sequence: SequenceSettingsInput!) {\n    updateResourceAttributes(path: $path, sequence: $sequence) {\n      id\n      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }\n    }\n  }\n"): (typeof documents)["\n  mutation SequenceSettings($path: String!, $sequence: SequenceSettingsInput!) {\n    updateResourceAttributes(path: $path, sequence: $sequence) {\n      id\n      sequence { dataType units decimalPlaces min max maxHistory minStorageInterval }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Revisions($path: String!, $first: Int = 50, $after: String) {\n    resource(path: $path) {\n      id\n      url\n      revisions(first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { id timestamp size sha256 contentType url author { id email fullName } } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Revisions($path: String!, $first: Int = 50, $after: String) {\n    resource(path: $path) {\n      id\n      url\n      revisions(first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { id timestamp size sha256 contentType url author { id email fullName } } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation WriteFile($path: String!, $contentBase64: String!, $contentType: String) {\n    writeFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id timestamp size }\n  }\n"): (typeof documents)["\n  mutation WriteFile($path: String!, $contentBase64: String!, $contentType: String) {\n    writeFile(path: $path, contentBase64: $contentBase64, contentType: $contentType) { id timestamp size }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Messages($path: String!, $types: [String!], $first: Int = 100, $after: String) {\n    resource(path: $path) {\n      id\n      messages(types: $types, first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { id type parameters timestamp senderUser { id email } senderController { id path } } }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Messages($path: String!, $types: [String!], $first: Int = 100, $after: String) {\n    resource(path: $path) {\n      id\n      messages(types: $types, first: $first, after: $after) {\n        pageInfo { hasNextPage endCursor }\n        edges { node { id type parameters timestamp senderUser { id email } senderController { id path } } }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription FolderMessages($path: String!, $types: [String!]) {\n    folderMessages(path: $path, types: $types) {\n      id type parameters timestamp senderUser { id email } senderController { id path }\n    }\n  }\n"): (typeof documents)["\n  subscription FolderMessages($path: String!, $types: [String!]) {\n    folderMessages(path: $path, types: $types) {\n      id type parameters timestamp senderUser { id email } senderController { id path }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendMessage($path: String!, $type: String!, $parameters: JSON) {\n    sendMessage(path: $path, type: $type, parameters: $parameters) { id type parameters timestamp }\n  }\n"): (typeof documents)["\n  mutation SendMessage($path: String!, $type: String!, $parameters: JSON) {\n    sendMessage(path: $path, type: $type, parameters: $parameters) { id type parameters timestamp }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Keys {\n    keys {\n      id name prefix createdAt revokedAt lastUsedAt\n      organization { id name }\n      asUser { id email }\n      asController { id path }\n    }\n  }\n"): (typeof documents)["\n  query Keys {\n    keys {\n      id name prefix createdAt revokedAt lastUsedAt\n      organization { id name }\n      asUser { id email }\n      asController { id path }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateKey($input: CreateKeyInput!) {\n    createKey(input: $input) { secret key { id name prefix createdAt revokedAt } }\n  }\n"): (typeof documents)["\n  mutation CreateKey($input: CreateKeyInput!) {\n    createKey(input: $input) { secret key { id name prefix createdAt revokedAt } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeKey($id: ID!) { revokeKey(id: $id) { id revokedAt } }\n"): (typeof documents)["\n  mutation RevokeKey($id: ID!) { revokeKey(id: $id) { id revokedAt } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Controllers($path: String!) {\n    resource(path: $path) {\n      id\n      # Complexity weighs each field by the descendants cap: only what finds controllers.\n      descendants(depth: 6) { id path type }\n    }\n  }\n"): (typeof documents)["\n  query Controllers($path: String!) {\n    resource(path: $path) {\n      id\n      # Complexity weighs each field by the descendants cap: only what finds controllers.\n      descendants(depth: 6) { id path type }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ControllerLog($path: String!, $last: Int!) {\n    resource(path: $path) {\n      id\n      values(last: $last) { edges { node { timestamp number text } } }\n    }\n  }\n"): (typeof documents)["\n  query ControllerLog($path: String!, $last: Int!) {\n    resource(path: $path) {\n      id\n      values(last: $last) { edges { node { timestamp number text } } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Controller($path: String!) {\n    resource(path: $path) {\n      id\n      controller { online clientVersion lastConnectAt lastWatchdogAt watchdogMinutes }\n    }\n  }\n"): (typeof documents)["\n  query Controller($path: String!) {\n    resource(path: $path) {\n      id\n      controller { online clientVersion lastConnectAt lastWatchdogAt watchdogMinutes }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Watchdog($path: String!) {\n    resource(path: $path) { id controller { watchdogMinutes watchdogRecipients } }\n  }\n"): (typeof documents)["\n  query Watchdog($path: String!) {\n    resource(path: $path) { id controller { watchdogMinutes watchdogRecipients } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetWatchdog($path: String!, $minutes: Int!, $recipients: [String!]!) {\n    setWatchdog(path: $path, minutes: $minutes, recipients: $recipients) {\n      id controller { watchdogMinutes watchdogRecipients }\n    }\n  }\n"): (typeof documents)["\n  mutation SetWatchdog($path: String!, $minutes: Int!, $recipients: [String!]!) {\n    setWatchdog(path: $path, minutes: $minutes, recipients: $recipients) {\n      id controller { watchdogMinutes watchdogRecipients }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Organization($name: String!) {\n    organization(name: $name) {\n      id name fullName folderPath\n      members { id isAdmin user { id email fullName } }\n    }\n  }\n"): (typeof documents)["\n  query Organization($name: String!) {\n    organization(name: $name) {\n      id name fullName folderPath\n      members { id isAdmin user { id email fullName } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddMember($organization: String!, $email: String!, $admin: Boolean) {\n    addMember(organization: $organization, email: $email, admin: $admin) { id isAdmin }\n  }\n"): (typeof documents)["\n  mutation AddMember($organization: String!, $email: String!, $admin: Boolean) {\n    addMember(organization: $organization, email: $email, admin: $admin) { id isAdmin }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetMemberAdmin($organization: String!, $email: String!, $admin: Boolean!) {\n    setMemberAdmin(organization: $organization, email: $email, admin: $admin) { id isAdmin }\n  }\n"): (typeof documents)["\n  mutation SetMemberAdmin($organization: String!, $email: String!, $admin: Boolean!) {\n    setMemberAdmin(organization: $organization, email: $email, admin: $admin) { id isAdmin }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveMember($organization: String!, $email: String!) {\n    removeMember(organization: $organization, email: $email)\n  }\n"): (typeof documents)["\n  mutation RemoveMember($organization: String!, $email: String!) {\n    removeMember(organization: $organization, email: $email)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Permissions($path: String!) {\n    resource(path: $path) {\n      id path access\n      permissions { id granteeType level user { id email } organization { id name } }\n    }\n  }\n"): (typeof documents)["\n  query Permissions($path: String!) {\n    resource(path: $path) {\n      id path access\n      permissions { id granteeType level user { id email } organization { id name } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Grant($path: String!, $grantee: GranteeInput!, $level: AccessLevel!) {\n    grantPermission(path: $path, grantee: $grantee, level: $level) { id }\n  }\n"): (typeof documents)["\n  mutation Grant($path: String!, $grantee: GranteeInput!, $level: AccessLevel!) {\n    grantPermission(path: $path, grantee: $grantee, level: $level) { id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokePermission($id: ID!) { revokePermission(id: $id) }\n"): (typeof documents)["\n  mutation RevokePermission($id: ID!) { revokePermission(id: $id) }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Admin {\n    organizations { id name fullName folderPath members { id } }\n  }\n\n"): (typeof documents)["\n  query Admin {\n    organizations { id name fullName folderPath members { id } }\n  }\n\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users($first: Int = 200, $after: String) {\n    users(first: $first, after: $after) {\n      edges { node { id email userName fullName systemAdmin createdAt lastLogin } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"): (typeof documents)["\n  query Users($first: Int = 200, $after: String) {\n    users(first: $first, after: $after) {\n      edges { node { id email userName fullName systemAdmin createdAt lastLogin } }\n      pageInfo { hasNextPage endCursor }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SourceHealth {\n    sourceHealth {\n      source ok checkedAt latencyMs error\n      formats { format ok records bytes latencyMs error }\n    }\n  }\n"): (typeof documents)["\n  query SourceHealth {\n    sourceHealth {\n      source ok checkedAt latencyMs error\n      formats { format ok records bytes latencyMs error }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id email } }\n"): (typeof documents)["\n  mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id email } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateOrganization($name: String!, $fullName: String) {\n    createOrganization(name: $name, fullName: $fullName) { id name }\n  }\n"): (typeof documents)["\n  mutation CreateOrganization($name: String!, $fullName: String) {\n    createOrganization(name: $name, fullName: $fullName) { id name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Recent($first: Int) {\n    recentResources(first: $first) { id name path type updatedAt lastRevisionAt }\n  }\n"): (typeof documents)["\n  query Recent($first: Int) {\n    recentResources(first: $first) { id name path type updatedAt lastRevisionAt }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;